package dev.switchboard.lb.consul;

import java.time.Duration;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with "equal jitter": after the n-th failure in a row the delay is drawn
 * uniformly from [d/2, d] where d = min(max, initial x 2^(n-1)). Half the delay is fixed, so many
 * clients that failed together spread out without any of them retrying at once (AWS Architecture
 * Blog, "Exponential Backoff And Jitter"). Thread-safe if the random source is.
 */
final class Backoff {
  private final long initialNanos;
  private final long maxNanos;
  private final DoubleSupplier random;

  /**
   * @param random values in [0, 1)
   */
  Backoff(Duration initial, Duration max, DoubleSupplier random) {
    this.initialNanos = initial.toNanos();
    this.maxNanos = max.toNanos();
    this.random = random;
  }

  /** The delay after {@code failures} (at least 1) failures in a row, in nanoseconds. */
  long delayNanos(int failures) {
    long ceiling = ceilingNanos(failures);
    long half = ceiling / 2;
    return half + (long) (random.getAsDouble() * (ceiling - half));
  }

  /** The largest delay after {@code failures} failures in a row. */
  long ceilingNanos(int failures) {
    int doublings = Math.max(0, Math.min(failures - 1, 62));
    long ceiling = initialNanos;
    for (int i = 0; i < doublings && ceiling < maxNanos; i++) {
      ceiling = ceiling > maxNanos / 2 ? maxNanos : ceiling * 2;
    }
    return Math.min(ceiling, maxNanos);
  }
}
