package dev.switchboard.lb;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/**
 * The health state of one endpoint other than its load: its circuit breaker, outlier ejection and
 * active health-check results. Fields other than the breaker are written only on the cluster's
 * serial executor and read anywhere.
 */
final class EndpointHealth {
  final CircuitBreaker breaker;

  // Outlier ejection
  volatile boolean ejected;
  volatile long ejectedUntilNanos;
  int ejections; // consecutive ejections without a quiet period; drives the exponential time
  long lastRestoredNanos = Long.MIN_VALUE;

  // Active health check
  volatile boolean checkFailing;
  int checkSuccesses;
  int checkFailures;

  EndpointHealth(CircuitBreaker breaker) {
    this.breaker = breaker;
  }
}
