package dev.switchboard.lb;

import java.time.Duration;
import java.util.Objects;

/**
 * How a cluster runs a {@link HealthCheck}: every {@code interval} per member, each probe bounded
 * by {@code timeout}; a member is marked failing after {@code unhealthyThreshold} failed probes in
 * a row and healthy again after {@code healthyThreshold} passed probes in a row (HAProxy's {@code
 * fall} and {@code rise}).
 *
 * @param check the probe
 * @param interval time between probes of one member, positive
 * @param timeout the longest a probe may take, positive and not longer than the interval
 * @param healthyThreshold passed probes in a row that mark a failing member healthy, at least 1
 * @param unhealthyThreshold failed probes in a row that mark a member failing, at least 1
 */
public record ActiveHealthCheck(
    HealthCheck check,
    Duration interval,
    Duration timeout,
    int healthyThreshold,
    int unhealthyThreshold) {

  public ActiveHealthCheck {
    Objects.requireNonNull(check, "check");
    if (interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("interval must be positive but was " + interval);
    }
    if (timeout.isNegative() || timeout.isZero() || timeout.compareTo(interval) > 0) {
      throw new IllegalArgumentException(
          "timeout must be positive and not longer than the interval ("
              + interval
              + ") but was "
              + timeout);
    }
    if (healthyThreshold < 1) {
      throw new IllegalArgumentException(
          "healthyThreshold must be at least 1 but was " + healthyThreshold);
    }
    if (unhealthyThreshold < 1) {
      throw new IllegalArgumentException(
          "unhealthyThreshold must be at least 1 but was " + unhealthyThreshold);
    }
  }

  /** {@code check} every 5 s with a 1 s timeout, rise 2, fall 3. */
  public static ActiveHealthCheck of(HealthCheck check) {
    return new ActiveHealthCheck(check, Duration.ofSeconds(5), Duration.ofSeconds(1), 2, 3);
  }

  public ActiveHealthCheck withInterval(Duration interval, Duration timeout) {
    return new ActiveHealthCheck(check, interval, timeout, healthyThreshold, unhealthyThreshold);
  }

  public ActiveHealthCheck withThresholds(int healthy, int unhealthy) {
    return new ActiveHealthCheck(check, interval, timeout, healthy, unhealthy);
  }
}
