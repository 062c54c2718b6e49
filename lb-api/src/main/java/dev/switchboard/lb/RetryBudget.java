package dev.switchboard.lb;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.LongAdder;

/**
 * Limits retries to a share of recent calls plus a floor per second, over a sliding window of ten
 * one-second buckets (Finagle's {@code RetryBudget}: retries stay a bounded fraction of load, so a
 * failing backend is not hit by a retry storm).
 *
 * <p>Thread-safe and lock-free; a deposit is one uncontended striped add.
 */
final class RetryBudget {
  private static final int BUCKETS = 10;
  private static final long BUCKET_NANOS = 1_000_000_000L;

  private final Ticker ticker;
  private final int percent;
  private final int minPerSecond;
  // Per bucket: [epoch second, deposits, withdrawals]
  private final AtomicLongArray epochs = new AtomicLongArray(BUCKETS);
  // Deposits happen on every call, from every caller thread: striped counters, not one atomic.
  private final LongAdder[] deposits = new LongAdder[BUCKETS];
  private final AtomicLongArray withdrawals = new AtomicLongArray(BUCKETS);

  RetryBudget(Ticker ticker, int percent, int minPerSecond) {
    this.ticker = ticker;
    this.percent = percent;
    this.minPerSecond = minPerSecond;
    long second = Math.floorDiv(ticker.read(), BUCKET_NANOS);
    for (int i = 0; i < BUCKETS; i++) {
      epochs.set(i, second);
      deposits[i] = new LongAdder();
    }
  }

  /** Records one call (a first attempt). */
  void deposit(long nowNanos) {
    deposits[bucket(nowNanos)].increment();
  }

  /** Takes one retry from the budget; returns false when the budget is spent. */
  boolean tryWithdraw() {
    long now = ticker.read();
    int current = bucket(now);
    long second = Math.floorDiv(now, BUCKET_NANOS);
    long calls = 0;
    long retries = 0;
    for (int i = 0; i < BUCKETS; i++) {
      if (second - epochs.get(i) < BUCKETS) {
        calls += deposits[i].sum();
        retries += withdrawals.get(i);
      }
    }
    long allowed = calls * percent / 100 + (long) minPerSecond * BUCKETS;
    if (retries >= allowed) {
      return false;
    }
    withdrawals.incrementAndGet(current);
    return true;
  }

  /** The bucket for {@code nowNanos}, cleared first if it still holds an older second. */
  private int bucket(long nowNanos) {
    long second = Math.floorDiv(nowNanos, BUCKET_NANOS);
    int i = Math.floorMod(second, BUCKETS);
    long seen = epochs.get(i);
    if (seen != second && epochs.compareAndSet(i, seen, second)) {
      // Racing deposits into the stale second may be lost: the budget is an estimate.
      deposits[i].reset();
      withdrawals.set(i, 0);
    }
    return i;
  }
}
