package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call.Hedging;
import dev.switchboard.lb.Subset;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How the calls of one method behave, where they differ from the proxy's defaults (gRPC's service
 * config {@code methodConfig}, Dubbo's {@code <dubbo:method>}): deadline, idempotence, attempts,
 * hedging, hash key and subset. Set through {@link ThriftClients.Builder#method}:
 *
 * <pre>{@code
 * ThriftClients.builder(Store.Iface.class, Store.Client::new, cluster)
 *     .timeout(Duration.ofSeconds(2)) // every other method
 *     .method("get", m -> m.timeout(Duration.ofMillis(200))
 *         .idempotent(true)
 *         .maxAttempts(3)
 *         .hedge(Duration.ofMillis(20), 10))
 *     .build();
 * }</pre>
 *
 * <p>Each setter validates at once; a setting left unset follows the proxy's. Not thread-safe.
 */
public final class MethodConfig {
  private final String name;
  private final int clusterMaxAttempts;
  @Nullable Duration timeout;
  @Nullable Boolean idempotent;
  int maxAttempts;
  boolean hedgingSet;
  @Nullable Hedging hedging;
  @Nullable Function<Object[], ?> hashKey;
  @Nullable Function<Object[], Subset> subset;

  MethodConfig(String name, int clusterMaxAttempts) {
    this.name = name;
    this.clusterMaxAttempts = clusterMaxAttempts;
  }

  /**
   * The deadline of each call of this method, across its attempts.
   *
   * @throws IllegalArgumentException if not positive
   */
  public MethodConfig timeout(Duration timeout) {
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException(
          "timeout of " + name + " must be positive but was " + timeout);
    }
    this.timeout = timeout;
    return this;
  }

  /**
   * Whether the method is harmless to repeat: after a timeout or a broken connection an idempotent
   * call is retried on another endpoint, and only idempotent calls are hedged. Connect failures,
   * which sent nothing, are retried either way.
   */
  public MethodConfig idempotent(boolean idempotent) {
    this.idempotent = idempotent;
    return this;
  }

  /**
   * At most {@code max} attempts per call of this method, the first included (1: never retried).
   * The cluster's {@link dev.switchboard.lb.RetryPolicy} caps it, as gRPC's channel-wide limit caps
   * a method's {@code maxAttempts}; its backoff and retry budget apply.
   *
   * @throws IllegalArgumentException if below 1 or above the cluster's retry policy's maximum
   */
  public MethodConfig maxAttempts(int max) {
    if (max < 1) {
      throw new IllegalArgumentException(
          "maxAttempts of " + name + " must be at least 1 but was " + max);
    }
    if (max > clusterMaxAttempts) {
      throw new IllegalArgumentException(
          "maxAttempts of "
              + name
              + " is "
              + max
              + " but the cluster's retry policy allows "
              + clusterMaxAttempts
              + "; raise RetryPolicy's maxAttempts on the Cluster.Builder");
    }
    this.maxAttempts = max;
    return this;
  }

  /**
   * Hedges this method's calls (see {@link ThriftClients.Builder#hedge}) with a budget of its own:
   * a call not answered after {@code delay} is also sent to another endpoint, within {@code
   * maxExtraPercent}% extra calls. The method must be idempotent ({@code build()} checks).
   *
   * @throws IllegalArgumentException if {@code delay} is not positive or {@code maxExtraPercent}
   *     not between 1 and 100
   */
  public MethodConfig hedge(Duration delay, int maxExtraPercent) {
    this.hedging = Hedging.of(delay, maxExtraPercent);
    this.hedgingSet = true;
    return this;
  }

  /** Never hedges this method, whatever the proxy's hedging. */
  public MethodConfig noHedging() {
    this.hedging = null;
    this.hedgingSet = true;
    return this;
  }

  /** Routes calls by a key from their arguments; see {@link ThriftClients.Builder#hashKey}. */
  public MethodConfig hashKey(Function<Object[], ?> key) {
    this.hashKey = Objects.requireNonNull(key, "key");
    return this;
  }

  /**
   * Restricts each call to the members matching a subset computed from its arguments, on top of the
   * proxy's {@link ThriftClients.Builder#subset} (the call's pairs win where both name a key):
   *
   * <pre>{@code
   * .method("get", m -> m.subset(args -> Subset.of("tenant", (String) args[0])))
   * }</pre>
   *
   * If the function throws or returns null, the call fails with an {@link IllegalArgumentException}
   * naming the method; when no matching member can take the call it fails with {@link
   * dev.switchboard.lb.NoMatchingEndpointException}.
   */
  public MethodConfig subset(Function<Object[], Subset> subset) {
    this.subset = Objects.requireNonNull(subset, "subset");
    return this;
  }

  /** The method as {@code Iface.name}, for messages. */
  String name() {
    return name;
  }

  @Override
  public String toString() {
    return "MethodConfig{" + name + "}";
  }
}
