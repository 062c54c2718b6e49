package dev.switchboard.lb;

import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/**
 * How a cluster spreads calls over its eligible endpoints: a factory of immutable {@link Picker}s,
 * asked for a new picker each time the candidates change.
 *
 * <p>Implementations must be thread-safe; {@link #newPicker} is called only on a cluster's serial
 * executor, so one policy instance may serve several clusters.
 */
public interface BalancingPolicy {

  /** A short name for logs and snapshots, such as {@code "round_robin"}. */
  String name();

  /**
   * Builds a picker over {@code candidates} (never empty).
   *
   * @param previous the picker this one replaces, or null for a cluster's first picker; a policy
   *     may carry state over from it (a round-robin cursor, say) so that a rebuild does not reset
   *     the sequence
   */
  Picker newPicker(Candidates candidates, @Nullable Picker previous);

  /**
   * Smooth weighted round robin, as nginx: with weights 5:1:1 the order is a a b a c a a, with no
   * bursts. Each client starts at a random offset, so clients restarted together do not all hit the
   * same first endpoint.
   */
  static BalancingPolicy roundRobin() {
    return of("round_robin", RoundRobinPicker::create);
  }

  /**
   * Least connections by power of two choices: two distinct candidates sampled at random, the one
   * with fewer in-flight calls per unit of weight wins.
   */
  static BalancingPolicy leastConnections() {
    return of("least_connections", LeastConnectionsPicker::create);
  }

  /**
   * Latency-aware power of two choices (Finagle's and Linkerd's peak EWMA): the candidate with the
   * lower latency × (in-flight + 1) per unit of weight wins. Failures count as slow calls, so an
   * endpoint that fails fast does not attract traffic.
   */
  static BalancingPolicy peakEwma() {
    return of("peak_ewma", PeakEwmaPicker::create);
  }

  /** Random choice in proportion to weight. */
  static BalancingPolicy weightedRandom() {
    return of("weighted_random", WeightedRandomPicker::create);
  }

  /**
   * Consistent hashing on {@link CallContext#hashKey()} over a weighted hash ring: when one of N
   * members leaves, only about 1/N of the keys move. Calls without a key are spread at random.
   */
  static BalancingPolicy consistentHash() {
    return of("consistent_hash", RingHashPicker::create);
  }

  /**
   * Consistent hashing on a key computed from the call context, for callers that keep their key
   * elsewhere than {@link CallContext#hashKey()}.
   */
  static BalancingPolicy consistentHash(ToLongFunction<CallContext> keyFunction) {
    Objects.requireNonNull(keyFunction, "keyFunction");
    return of(
        "consistent_hash",
        (candidates, previous) -> RingHashPicker.create(candidates, previous, keyFunction));
  }

  /** A policy named {@code name} whose pickers {@code factory} builds. */
  static BalancingPolicy of(String name, BiFunction<Candidates, @Nullable Picker, Picker> factory) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(factory, "factory");
    return new BalancingPolicy() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Picker newPicker(Candidates candidates, @Nullable Picker previous) {
        return factory.apply(candidates, previous);
      }

      @Override
      public String toString() {
        return name;
      }
    };
  }
}
