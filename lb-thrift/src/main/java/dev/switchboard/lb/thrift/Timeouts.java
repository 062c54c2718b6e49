package dev.switchboard.lb.thrift;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Socket timeouts from durations: sockets take an {@code int} of milliseconds, so anything longer
 * than {@code Integer.MAX_VALUE} ms (about 24.8 days) is clamped to it rather than overflowing into
 * a negative value, and anything shorter than 1 ms becomes 1 ms (0 would mean "forever").
 * Stateless.
 */
final class Timeouts {
  private Timeouts() {}

  /** {@code d} in milliseconds for a socket, between 1 and {@code Integer.MAX_VALUE}. */
  static int millis(Duration d) {
    return millis(nanos(d));
  }

  /** {@code nanos} in milliseconds for a socket, between 1 and {@code Integer.MAX_VALUE}. */
  static int millis(long nanos) {
    return (int) Math.min(Integer.MAX_VALUE, Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)));
  }

  /** {@code d} in nanoseconds, saturated at {@code Long.MAX_VALUE} (about 292 years). */
  static long nanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException tooLong) {
      return Long.MAX_VALUE;
    }
  }
}
