package dev.switchboard.lb;

import java.time.Duration;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/**
 * What the balancer may know about one logical call: its hash key (for consistent hashing), its
 * deadline, whether it is idempotent, and the endpoints already tried by earlier attempts (which a
 * retry avoids while another endpoint exists).
 *
 * <p>Not thread-safe: one context belongs to one call and its attempts. {@link #DEFAULT} is an
 * immutable shared context for calls that carry nothing.
 */
public final class CallContext {
  /** A context with no key, no deadline, not idempotent; shared and never modified. */
  public static final CallContext DEFAULT = new CallContext(0L, false, Long.MAX_VALUE, false, true);

  private final long hashKey;
  private final boolean hasHashKey;
  private final long deadlineNanos;
  private final boolean idempotent;
  private final boolean frozen;
  private Endpoint @Nullable [] tried;
  private int triedCount;

  private CallContext(
      long hashKey, boolean hasHashKey, long deadlineNanos, boolean idempotent, boolean frozen) {
    this.hashKey = hashKey;
    this.hasHashKey = hasHashKey;
    this.deadlineNanos = deadlineNanos;
    this.idempotent = idempotent;
    this.frozen = frozen;
  }

  /** Starts a context. */
  public static Builder builder() {
    return new Builder();
  }

  /** The key consistent hashing routes by; meaningful only if {@link #hasHashKey()}. */
  public long hashKey() {
    return hashKey;
  }

  public boolean hasHashKey() {
    return hasHashKey;
  }

  /**
   * The deadline as a {@link Ticker} reading in nanoseconds, or {@link Long#MAX_VALUE} for none.
   */
  public long deadlineNanos() {
    return deadlineNanos;
  }

  public boolean isIdempotent() {
    return idempotent;
  }

  /** Whether {@code endpoint} was already tried (or refused) by this call. */
  public boolean isExcluded(Endpoint endpoint) {
    Endpoint[] t = tried;
    for (int i = 0; i < triedCount; i++) {
      if (t[i] == endpoint) {
        return true;
      }
    }
    return false;
  }

  /** How many endpoints this call has tried or been refused by. */
  public int excludedCount() {
    return triedCount;
  }

  /**
   * Records that {@code endpoint} was tried, so later picks for this call avoid it while another
   * candidate exists.
   *
   * @throws IllegalStateException on {@link #DEFAULT}, which is shared
   */
  public void exclude(Endpoint endpoint) {
    if (frozen) {
      throw new IllegalStateException("CallContext.DEFAULT is shared and cannot record attempts");
    }
    if (isExcluded(endpoint)) {
      return;
    }
    if (tried == null) {
      tried = new Endpoint[4];
    } else if (triedCount == tried.length) {
      tried = Arrays.copyOf(tried, triedCount * 2);
    }
    tried[triedCount++] = endpoint;
  }

  /** Forgets the endpoints excluded after the first {@code count}. */
  void truncateExcluded(int count) {
    for (int i = count; i < triedCount; i++) {
      tried[i] = null;
    }
    triedCount = Math.min(triedCount, count);
  }

  boolean isShared() {
    return frozen;
  }

  /** A fresh, modifiable copy with the same key, deadline and idempotence, and no exclusions. */
  CallContext copy() {
    return new CallContext(hashKey, hasHashKey, deadlineNanos, idempotent, false);
  }

  @Override
  public String toString() {
    return "CallContext{"
        + (hasHashKey ? "hashKey=" + hashKey + ", " : "")
        + (deadlineNanos == Long.MAX_VALUE ? "" : "deadlineNanos=" + deadlineNanos + ", ")
        + "idempotent="
        + idempotent
        + ", tried="
        + triedCount
        + "}";
  }

  /** Builds a {@link CallContext}; not thread-safe. */
  public static final class Builder {
    private long hashKey;
    private boolean hasHashKey;
    private long deadlineNanos = Long.MAX_VALUE;
    private boolean idempotent;

    private Builder() {}

    /** Routes the call by {@code key} under consistent hashing. */
    public Builder hashKey(long key) {
      this.hashKey = key;
      this.hasHashKey = true;
      return this;
    }

    /** Routes the call by {@code key}'s 64-bit hash under consistent hashing. */
    public Builder hashKey(CharSequence key) {
      return hashKey(Hashing.hash64(key));
    }

    /**
     * Sets the deadline to {@code timeout} after {@code ticker}'s current reading; use the
     * cluster's ticker ({@code cluster.ticker()}).
     */
    public Builder timeout(Duration timeout, Ticker ticker) {
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("timeout must not be negative but was " + timeout);
      }
      long now = ticker.read();
      long nanos = saturatedNanos(timeout);
      this.deadlineNanos = now + nanos < now ? Long.MAX_VALUE : now + nanos;
      return this;
    }

    /** Sets the deadline as a ticker reading in nanoseconds. */
    public Builder deadlineNanos(long deadlineNanos) {
      this.deadlineNanos = deadlineNanos;
      return this;
    }

    /** Declares the call harmless to repeat, so it may be retried after it was sent. */
    public Builder idempotent(boolean idempotent) {
      this.idempotent = idempotent;
      return this;
    }

    public CallContext build() {
      return new CallContext(hashKey, hasHashKey, deadlineNanos, idempotent, false);
    }
  }

  static long saturatedNanos(Duration d) {
    try {
      return d.toNanos();
    } catch (ArithmeticException e) {
      return d.isNegative() ? Long.MIN_VALUE : Long.MAX_VALUE;
    }
  }
}
