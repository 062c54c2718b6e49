package dev.switchboard.lb;

/**
 * A source of nanosecond time, as {@link System#nanoTime()}; injected so state machines can be
 * driven by a controllable clock in tests. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface Ticker {
  /** The current reading in nanoseconds; only differences between readings are meaningful. */
  long read();

  /** The system ticker, {@link System#nanoTime()}. */
  static Ticker system() {
    return System::nanoTime;
  }
}
