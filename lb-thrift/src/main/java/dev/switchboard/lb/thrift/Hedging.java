package dev.switchboard.lb.thrift;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

/**
 * When and how often a call may be hedged: a second attempt on another endpoint after {@link
 * #delayNanos} without an answer (Finagle's backup requests, gRPC's hedging policy), within a
 * budget of {@code maxExtraPercent}% of the calls plus a small burst.
 *
 * <p>The budget is a token bucket in thousandths of a hedge: each call deposits {@code 10 ×
 * maxExtraPercent}, each hedge withdraws 1,000, and the balance is capped at {@value #BURST}
 * hedges, so a sudden slowdown of every endpoint adds at most that percentage of load once the
 * burst is spent. Thread-safe.
 */
final class Hedging {
  static final int BURST = 10;
  private static final long HEDGE = 1_000;

  final long delayNanos;
  private final long deposit;
  private final AtomicLong balance = new AtomicLong(BURST * HEDGE);

  Hedging(Duration delay, int maxExtraPercent) {
    if (delay.isNegative() || delay.isZero()) {
      throw new IllegalArgumentException("hedge delay must be positive but was " + delay);
    }
    if (maxExtraPercent < 1 || maxExtraPercent > 100) {
      throw new IllegalArgumentException(
          "maxExtraPercent must be between 1 and 100 but was " + maxExtraPercent);
    }
    this.delayNanos = delay.toNanos();
    this.deposit = 10L * maxExtraPercent;
  }

  /** A hedgeable call started. */
  void deposit() {
    long b;
    do {
      b = balance.get();
      if (b >= BURST * HEDGE) {
        return;
      }
    } while (!balance.compareAndSet(b, Math.min(BURST * HEDGE, b + deposit)));
  }

  /** Takes one hedge from the budget; false when it is spent. */
  boolean tryWithdraw() {
    long b;
    do {
      b = balance.get();
      if (b < HEDGE) {
        return false;
      }
    } while (!balance.compareAndSet(b, b - HEDGE));
    return true;
  }
}
