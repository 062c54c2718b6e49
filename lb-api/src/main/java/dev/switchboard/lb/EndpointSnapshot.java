package dev.switchboard.lb;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.util.Locale;

/**
 * One endpoint as the client saw it at one moment: what the registry says, the load and latency
 * this client measured, and whether (and why not) it takes calls. Immutable.
 *
 * @param instance the registered instance
 * @param effectiveWeight the weight picks use now (registered weight scaled by slow start)
 * @param inFlight calls started and not finished
 * @param latencyMillis the latency estimate in milliseconds, what peak EWMA ranks by (0 before the
 *     first call; see {@link Cluster.Builder#latencyTracking}); {@link #latencyText()} shows it
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

  /**
   * The latency estimate for people, in a unit that fits it: {@code 187 µs}, {@code 24.0 ms},
   * {@code 1.25 s}; {@code -} before the first call.
   */
  public String latencyText() {
    return latencyText(latencyMillis * 1e6);
  }

  /**
   * {@code nanos} to three significant digits in µs, ms or s, whichever keeps the number below 1000
   * ({@code 0.42 µs}, {@code 187 µs}, {@code 24.0 ms}, {@code 1.25 s}); {@code -} for 0.
   *
   * @throws IllegalArgumentException if {@code nanos} is negative, infinite or NaN
   */
  static String latencyText(double nanos) {
    if (!(nanos >= 0) || nanos == Double.POSITIVE_INFINITY) {
      throw new IllegalArgumentException(
          "latency must be a finite, non-negative number of nanoseconds but was " + nanos);
    }
    if (nanos == 0) {
      return "-";
    }
    double v = nanos / 1000;
    int unit = 0;
    while (unit < UNITS.length - 1 && v >= 999.5) {
      v /= 1000;
      unit++;
    }
    String digits = v >= 99.95 ? "%.0f %s" : v >= 9.995 ? "%.1f %s" : "%.2f %s";
    return String.format(Locale.ROOT, digits, v, UNITS[unit]);
  }

  private static final String[] UNITS = {"µs", "ms", "s"};
}
