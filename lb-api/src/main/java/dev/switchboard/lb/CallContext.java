package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.PickArgs;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What the balancer may know about one logical call: its hash key (for consistent hashing), its
 * deadline, whether it is idempotent, the {@link Subset} of members it may go to, and attributes an
 * integration or interceptor attaches. The endpoints a call has tried are the call engine's
 * business ({@link Call}), not the context's.
 *
 * <p>Immutable and thread-safe. As {@link PickArgs} it excludes nothing.
 */
public final class CallContext implements PickArgs {
  /** A context with no key, no deadline, not idempotent, no attributes. */
  public static final CallContext DEFAULT =
      new CallContext(0L, false, Long.MAX_VALUE, false, Map.of(), Subset.ALL);

  private final long hashKey;
  private final boolean hasHashKey;
  private final long deadlineNanos;
  private final boolean idempotent;
  private final Map<String, Object> attributes;
  private final Subset subset;

  private CallContext(
      long hashKey,
      boolean hasHashKey,
      long deadlineNanos,
      boolean idempotent,
      Map<String, Object> attributes,
      Subset subset) {
    this.hashKey = hashKey;
    this.hasHashKey = hasHashKey;
    this.deadlineNanos = deadlineNanos;
    this.idempotent = idempotent;
    this.attributes = attributes;
    this.subset = subset;
  }

  /** Starts a context. */
  public static Builder builder() {
    return new Builder();
  }

  /** A builder holding this context's values, to derive another context from it. */
  public Builder toBuilder() {
    Builder b = new Builder();
    b.hashKey = hashKey;
    b.hasHashKey = hasHashKey;
    b.deadlineNanos = deadlineNanos;
    b.idempotent = idempotent;
    b.attributes.putAll(attributes);
    b.subset = subset;
    return b;
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

  /** Whether the call has a deadline. */
  public boolean hasDeadline() {
    return deadlineNanos != Long.MAX_VALUE;
  }

  public boolean isIdempotent() {
    return idempotent;
  }

  /** The attribute {@code name}, or null if the call carries none by that name. */
  public @Nullable Object attribute(String name) {
    return attributes.get(name);
  }

  /** Every attribute, in the order they were set; unmodifiable. */
  public Map<String, Object> attributes() {
    return attributes;
  }

  /** The members the call may go to; {@link Subset#ALL} unless restricted. */
  public Subset subset() {
    return subset;
  }

  @Override
  public CallContext context() {
    return this;
  }

  @Override
  public boolean isExcluded(Endpoint endpoint) {
    return false;
  }

  @Override
  public int excludedCount() {
    return 0;
  }

  @Override
  public String toString() {
    return "CallContext{"
        + (hasHashKey ? "hashKey=" + hashKey + ", " : "")
        + (hasDeadline() ? "deadlineNanos=" + deadlineNanos + ", " : "")
        + "idempotent="
        + idempotent
        + (attributes.isEmpty() ? "" : ", attributes=" + attributes.keySet())
        + (subset.isAll() ? "" : ", subset=" + subset)
        + "}";
  }

  /** Builds a {@link CallContext}; not thread-safe. */
  public static final class Builder {
    private long hashKey;
    private boolean hasHashKey;
    private long deadlineNanos = Long.MAX_VALUE;
    private boolean idempotent;
    private final Map<String, Object> attributes = new LinkedHashMap<>();
    private Subset subset = Subset.ALL;

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

    /** Sets the deadline as a ticker reading in nanoseconds ({@link Long#MAX_VALUE}: none). */
    public Builder deadlineNanos(long deadlineNanos) {
      this.deadlineNanos = deadlineNanos;
      return this;
    }

    /** Declares the call harmless to repeat, so it may be retried after it was sent. */
    public Builder idempotent(boolean idempotent) {
      this.idempotent = idempotent;
      return this;
    }

    /** Attaches {@code value} under {@code name}, replacing an earlier value of that name. */
    public Builder attribute(String name, Object value) {
      attributes.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /**
     * Restricts the call to members whose metadata match {@code subset}: it is never sent to
     * another member, and fails with {@link NoMatchingEndpointException} when no matching member
     * can take it. {@link Subset#ALL} lifts the restriction.
     */
    public Builder subset(Subset subset) {
      this.subset = Objects.requireNonNull(subset, "subset");
      return this;
    }

    public CallContext build() {
      return new CallContext(
          hashKey,
          hasHashKey,
          deadlineNanos,
          idempotent,
          attributes.isEmpty()
              ? Map.of()
              : java.util.Collections.unmodifiableMap(new LinkedHashMap<>(attributes)),
          subset);
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
