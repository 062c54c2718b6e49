package dev.switchboard.lb;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;

/**
 * One endpoint as the client saw it at one moment: what the registry says, the load and latency
 * this client measured, and whether (and why not) it takes calls. Immutable.
 *
 * @param instance the registered instance
 * @param effectiveWeight the weight picks use now (registered weight scaled by slow start)
 * @param inFlight calls started and not finished
 * @param latencyMillis the decayed peak-EWMA latency in milliseconds (0 before the first call)
 * @param breakerState the endpoint's circuit breaker state
 * @param ejectionRemaining how long the endpoint stays ejected; zero if it is not ejected
 * @param calls calls finished since this client first saw the endpoint
 * @param failures calls that ended in an endpoint failure
 * @param eligibility the first reason that applies (see {@link Eligibility})
 * @param receivesTraffic whether the current picker can choose this endpoint (true for unhealthy
 *     endpoints in panic mode)
 * @param inSlowStart whether the endpoint's weight is still ramping up
 */
public record EndpointSnapshot(
    ServiceInstance instance,
    int effectiveWeight,
    int inFlight,
    double latencyMillis,
    CircuitBreaker.State breakerState,
    Duration ejectionRemaining,
    long calls,
    long failures,
    Eligibility eligibility,
    boolean receivesTraffic,
    boolean inSlowStart) {

  /** {@code host:port} of the instance. */
  public String address() {
    return instance.address();
  }

  /** The instance's zone, or {@link ServiceInstance#NO_ZONE}. */
  public String zone() {
    return instance.zone();
  }
}
