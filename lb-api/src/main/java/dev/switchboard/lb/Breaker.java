package dev.switchboard.lb;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One endpoint's circuit breaker: the only class that drives Resilience4j's {@link CircuitBreaker}
 * (the builder takes its {@link CircuitBreakerConfig}, snapshots report its {@link
 * CircuitBreaker.State}). Callers record outcomes and take half-open probe permits; the serial
 * executor moves an open breaker to half-open when its wait is up. Thread-safe, as Resilience4j's.
 */
final class Breaker {
  private final CircuitBreaker breaker;

  private Breaker(CircuitBreaker breaker) {
    this.breaker = breaker;
  }

  /** A breaker named {@code name} with {@code config}; a disabled one if {@code config} is null. */
  static Breaker create(String name, @Nullable CircuitBreakerConfig config) {
    if (config == null) {
      CircuitBreaker disabled = CircuitBreaker.ofDefaults(name);
      disabled.transitionToDisabledState();
      return new Breaker(disabled);
    }
    return new Breaker(CircuitBreaker.of(name, config));
  }

  CircuitBreaker.State state() {
    return breaker.getState();
  }

  /** Open (or forced open): calls would be refused. */
  boolean isOpen() {
    CircuitBreaker.State s = breaker.getState();
    return s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.FORCED_OPEN;
  }

  /** Open or probing: the endpoint failed recently. */
  boolean isTripped() {
    CircuitBreaker.State s = breaker.getState();
    return s == CircuitBreaker.State.OPEN || s == CircuitBreaker.State.HALF_OPEN;
  }

  boolean isHalfOpen() {
    return breaker.getState() == CircuitBreaker.State.HALF_OPEN;
  }

  /** Takes one of a half-open breaker's probe permits; false when none is left. */
  boolean tryAcquireProbe() {
    return breaker.tryAcquirePermission();
  }

  /** Gives back a probe permit whose call ended without an outcome (cancelled). */
  void releaseProbe() {
    breaker.releasePermission();
  }

  /**
   * Records a finished call; returns the state before it if the call changed the state, else null.
   */
  CircuitBreaker.@Nullable State record(Outcome outcome, long latencyNanos) {
    CircuitBreaker.State before = breaker.getState();
    if (outcome.isEndpointFailure()) {
      breaker.onError(latencyNanos, TimeUnit.NANOSECONDS, EndpointFailure.of(outcome));
    } else {
      breaker.onSuccess(latencyNanos, TimeUnit.NANOSECONDS);
    }
    return breaker.getState() != before ? before : null;
  }

  /**
   * Moves an open breaker whose wait is up to half-open (Resilience4j does so on the next permit
   * request, which nobody makes while pickers skip the endpoint); returns whether it did.
   */
  boolean tryStartProbing() {
    if (breaker.getState() != CircuitBreaker.State.OPEN || !breaker.tryAcquirePermission()) {
      return false;
    }
    breaker.releasePermission();
    return true;
  }

  /** How long the breaker stays open before it may probe. */
  long openWaitNanos() {
    long millis = breaker.getCircuitBreakerConfig().getWaitIntervalFunctionInOpenState().apply(1);
    return (millis + 1) * 1_000_000L; // Resilience4j opens strictly after the wait
  }

  @Override
  public String toString() {
    return "Breaker{" + breaker.getName() + ", " + breaker.getState() + "}";
  }
}
