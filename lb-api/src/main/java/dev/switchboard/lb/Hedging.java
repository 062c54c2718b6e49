package dev.switchboard.lb;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * When and how often a call may be hedged: a second attempt on another endpoint after {@link
 * #delayNanos} without an answer (Finagle's backup requests, gRPC's hedging policy), within a
 * budget of {@code maxExtraPercent}% of the calls plus a small burst.
 *
 * <p>The budget is a token bucket in thousandths of a hedge: each call deposits {@code 10 ×
 * maxExtraPercent}, each hedge withdraws 1,000, and the balance is capped at {@value #BURST}
 * hedges, so a sudden slowdown of every endpoint adds at most that percentage of load once the
 * burst is spent. Share one per client (its budget covers that client's calls); pass it to {@link
 * Call#hedge}. Only idempotent calls are hedged. Thread-safe.
 */
public final class Hedging {
  /** Hedges the budget allows in a burst. */
  public static final int BURST = 10;

  private static final long HEDGE = 1_000;

  final long delayNanos;
  private final long deposit;
  private final AtomicLong balance = new AtomicLong(BURST * HEDGE);
  private final LongAdder sent = new LongAdder();
  private final LongAdder won = new LongAdder();

  /**
   * Hedges a call that has not answered after {@code delay}, within {@code maxExtraPercent}% extra
   * attempts (plus a burst of {@value #BURST}).
   *
   * @throws IllegalArgumentException if {@code delay} is not positive or {@code maxExtraPercent} is
   *     not between 1 and 100
   */
  public static Hedging of(Duration delay, int maxExtraPercent) {
    return new Hedging(delay, maxExtraPercent);
  }

  private Hedging(Duration delay, int maxExtraPercent) {
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

  /** How many hedges were sent. */
  public long sent() {
    return sent.sum();
  }

  /** How many hedges answered before the attempt they backed up. */
  public long won() {
    return won.sum();
  }

  void recordSent() {
    sent.increment();
  }

  void recordWon() {
    won.increment();
  }

  @Override
  public String toString() {
    return "Hedging{after " + java.time.Duration.ofNanos(delayNanos) + ", sent " + sent() + "}";
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
