package dev.switchboard.lb.sim;

import java.util.SplittableRandom;

/**
 * A server's service-time distribution with a given mean. Samples use {@link StrictMath} so a seed
 * gives the same times on every JVM and platform.
 */
enum ServiceTime {
  /** Exponential (M/M/c queues): coefficient of variation 1. */
  EXPONENTIAL("exponential"),
  /** Lognormal with σ = 1 (a heavier tail: p99 ≈ 6× the mean). */
  LOGNORMAL("lognormal"),
  /** Every request takes exactly the mean (M/D/c queues). */
  CONSTANT("constant");

  private static final double SIGMA = 1.0;

  private final String label;

  ServiceTime(String label) {
    this.label = label;
  }

  String label() {
    return label;
  }

  /** One service time in nanoseconds (at least 1), with mean {@code meanNanos}. */
  long sample(SplittableRandom random, double meanNanos) {
    double t =
        switch (this) {
          case EXPONENTIAL -> meanNanos * exponential(random);
          case LOGNORMAL ->
              StrictMath.exp(
                  StrictMath.log(meanNanos) - SIGMA * SIGMA / 2 + SIGMA * gaussian(random));
          case CONSTANT -> meanNanos;
        };
    return Math.max(1, Math.round(t));
  }

  /** A standard exponential variate (mean 1). */
  static double exponential(SplittableRandom random) {
    return -StrictMath.log(1.0 - random.nextDouble());
  }

  /** A standard normal variate by Box–Muller (one of the pair; simple and fully specified). */
  private static double gaussian(SplittableRandom random) {
    double u = 1.0 - random.nextDouble(); // (0, 1]
    double v = random.nextDouble();
    return StrictMath.sqrt(-2 * StrictMath.log(u)) * StrictMath.cos(2 * StrictMath.PI * v);
  }

  /**
   * The distribution called {@code label}.
   *
   * @throws IllegalArgumentException for an unknown label
   */
  static ServiceTime of(String label) {
    for (ServiceTime s : values()) {
      if (s.label.equals(label)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown service-time distribution '"
            + label
            + "'; expected exponential, lognormal or constant");
  }
}
