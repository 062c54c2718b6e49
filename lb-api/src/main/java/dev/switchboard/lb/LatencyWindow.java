package dev.switchboard.lb;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLongArray;

/*
 * An adaptive hedge delay
 * =======================
 * Finagle's BackupRequestFilter sends a backup request after the latency percentile that matches
 * its extra-load budget (1% extra load: after the p99), read from a windowed histogram of recent
 * latencies. This is the same, kept small: log-linear buckets in microseconds (exact below 8 µs,
 * then 4 per octave, so a percentile is at most 25% high), two generations of WINDOW each (the
 * percentile reads both, so it covers the last 10 to 20 s), recomputed at most every REFRESH by
 * whichever recording thread notices. Recording is one atomic add; reading the delay is a volatile
 * read.
 *
 * Samples are the primaries' latencies: answers, and for a primary abandoned because its hedge
 * answered first, the time it had waited (a lower bound, so the tail never hides behind hedges).
 */

/** A sliding latency percentile for {@link Call.Hedging#adaptive}. Thread-safe. */
final class LatencyWindow {
  static final long NONE = Long.MAX_VALUE;
  private static final int BUCKETS = 160;
  private static final long WINDOW = 10_000_000_000L;
  private static final long REFRESH = 100_000_000L;
  private static final long MIN_SAMPLES = 200;
  private static final long FLOOR = 1_000_000L;

  private final double quantile;
  private volatile AtomicLongArray current = new AtomicLongArray(BUCKETS);
  private volatile AtomicLongArray previous = new AtomicLongArray(BUCKETS);
  private volatile long generationStart = Long.MIN_VALUE;
  private volatile long computedAt = Long.MIN_VALUE;
  private volatile long delay = NONE;
  private final AtomicBoolean computing = new AtomicBoolean();

  LatencyWindow(double quantile) {
    this.quantile = quantile;
  }

  /** Records one latency seen at {@code now}. */
  void record(long latencyNanos, long now) {
    current.incrementAndGet(bucket(Math.max(0, latencyNanos) / 1000));
    long last = computedAt;
    if ((last == Long.MIN_VALUE || now - last >= REFRESH) && computing.compareAndSet(false, true)) {
      try {
        if (generationStart == Long.MIN_VALUE) {
          generationStart = now;
        } else if (now - generationStart >= WINDOW) {
          previous = current;
          current = new AtomicLongArray(BUCKETS);
          generationStart = now;
        }
        delay = compute();
        computedAt = now;
      } finally {
        computing.set(false);
      }
    }
  }

  /** The percentile's latency, at least 1 ms; {@link #NONE} until enough samples were seen. */
  long delayNanos() {
    return delay;
  }

  private long compute() {
    AtomicLongArray a = current;
    AtomicLongArray b = previous;
    long[] counts = new long[BUCKETS];
    long total = 0;
    for (int i = 0; i < BUCKETS; i++) {
      counts[i] = a.get(i) + b.get(i);
      total += counts[i];
    }
    if (total < MIN_SAMPLES) {
      return NONE;
    }
    long target = (long) Math.ceil(quantile * total);
    long seen = 0;
    for (int i = 0; i < BUCKETS; i++) {
      seen += counts[i];
      if (seen >= target) {
        return Math.max(FLOOR, upperMicros(i) * 1000);
      }
    }
    return Math.max(FLOOR, upperMicros(BUCKETS - 1) * 1000);
  }

  static int bucket(long micros) {
    if (micros < 8) {
      return (int) micros;
    }
    int msb = 63 - Long.numberOfLeadingZeros(micros);
    int i = 8 + (msb - 3) * 4 + (int) ((micros >>> (msb - 2)) & 3);
    return Math.min(i, BUCKETS - 1);
  }

  /** The smallest latency in microseconds above every value of bucket {@code i}. */
  static long upperMicros(int i) {
    if (i < 8) {
      return i + 1;
    }
    int msb = 3 + (i - 8) / 4;
    int sub = (i - 8) % 4;
    return (5L + sub) << (msb - 2);
  }
}
