package dev.switchboard.lb;

import java.time.Duration;

/**
 * Outlier ejection on consecutive failures (Envoy's {@code consecutive_5xx}): an endpoint whose
 * last {@code consecutiveFailures} calls all failed is taken out of rotation for {@code
 * baseEjectionTime} × 2^(n−1), where n counts its ejections without a quiet period in between,
 * capped at {@code maxEjectionTime}. At most {@code maxEjectionPercent} of the members are ejected
 * at once (at least one may always be).
 *
 * @param consecutiveFailures endpoint failures in a row that eject, at least 1
 * @param baseEjectionTime the first ejection's length, positive
 * @param maxEjectionTime the longest ejection, at least {@code baseEjectionTime}
 * @param maxEjectionPercent the largest share of members ejected at once, 0 to 100
 */
public record OutlierDetection(
    int consecutiveFailures,
    Duration baseEjectionTime,
    Duration maxEjectionTime,
    int maxEjectionPercent) {

  private static final OutlierDetection DISABLED =
      new OutlierDetection(Integer.MAX_VALUE, Duration.ofSeconds(1), Duration.ofSeconds(1), 0);

  public OutlierDetection {
    if (consecutiveFailures < 1) {
      throw new IllegalArgumentException(
          "consecutiveFailures must be at least 1 but was " + consecutiveFailures);
    }
    if (baseEjectionTime.isNegative() || baseEjectionTime.isZero()) {
      throw new IllegalArgumentException(
          "baseEjectionTime must be positive but was " + baseEjectionTime);
    }
    if (maxEjectionTime.compareTo(baseEjectionTime) < 0) {
      throw new IllegalArgumentException(
          "maxEjectionTime ("
              + maxEjectionTime
              + ") must not be shorter than baseEjectionTime ("
              + baseEjectionTime
              + ")");
    }
    if (maxEjectionPercent < 0 || maxEjectionPercent > 100) {
      throw new IllegalArgumentException(
          "maxEjectionPercent must be between 0 and 100 but was " + maxEjectionPercent);
    }
  }

  /** 5 consecutive failures, 30 s base, 300 s cap, at most 50% ejected. */
  public static OutlierDetection defaults() {
    return new OutlierDetection(5, Duration.ofSeconds(30), Duration.ofSeconds(300), 50);
  }

  /** Never ejects. */
  public static OutlierDetection disabled() {
    return DISABLED;
  }

  public boolean isEnabled() {
    return consecutiveFailures != Integer.MAX_VALUE && maxEjectionPercent > 0;
  }

  /** The ejection time for the {@code n}th ejection in a row (1-based). */
  long ejectionNanos(int n) {
    long base = baseEjectionTime.toNanos();
    long max = maxEjectionTime.toNanos();
    int shift = Math.min(Math.max(n - 1, 0), 30);
    long time = base << shift;
    return time <= 0 || (time >> shift) != base ? max : Math.min(time, max);
  }
}
