package dev.switchboard.lb;

/**
 * The health state of one endpoint other than its load: its circuit breaker, outlier ejection,
 * active health-check results and Retry-After back-off, read by one eligibility pass ({@code
 * ClusterState.baseEligibility}, Envoy's {@code Host::HealthFlag}). Fields other than the breaker
 * are written only on the cluster's serial executor and read anywhere.
 */
final class EndpointHealth {
  final Breaker breaker;

  // Outlier ejection
  volatile boolean ejected;
  volatile long ejectedUntilNanos;
  int ejections; // consecutive ejections without a quiet period; drives the exponential time
  long lastRestoredNanos = Long.MIN_VALUE;

  // Active health check
  volatile boolean checkFailing;
  int checkSuccesses;
  int checkFailures;

  // Retry-After: the endpoint asked not to be called until (ticker nanos).
  volatile long backedOffUntilNanos;

  EndpointHealth(Breaker breaker) {
    this.breaker = breaker;
  }
}
