package dev.switchboard.lb;

import java.util.List;
import java.util.function.LongSupplier;

/**
 * The policies of {@link BalancingPolicy}, but drawing their random bits from a caller's source
 * instead of {@code ThreadLocalRandom}, so a single-threaded simulation is reproducible. It lives
 * in the policy package (as the JMH benchmarks here do) because the seeded picker constructors and
 * {@link RandomSource} are package-private in lb-api.
 *
 * <p>The pickers are the production ones; only their randomness differs. Round robin's cursor
 * starts every stripe at one position drawn from the source, so the schedule position does not
 * depend on the thread id or the processor count (which size the stripes).
 *
 * <p>Not thread-safe: the random source is called without synchronization.
 */
public final class SeededPolicies {
  /** The names {@link #of} accepts, in the order of {@link BalancingPolicy}'s factories. */
  public static final List<String> NAMES =
      List.of(
          "round_robin",
          "least_connections",
          "peak_ewma",
          "weighted_random",
          "consistent_hash",
          "prequal");

  /** A prober that sends nothing: Prequal without answers is least connections. */
  private static final Prequal.Prober NO_PROBES = (endpoint, replies) -> {};

  private SeededPolicies() {}

  /**
   * The policy {@code name} (one of {@link #NAMES}) drawing from {@code random}.
   *
   * @throws IllegalArgumentException for an unknown name
   */
  public static BalancingPolicy of(String name, LongSupplier random) {
    return of(name, random, NO_PROBES);
  }

  /**
   * The policy {@code name} (one of {@link #NAMES}) drawing from {@code random}; Prequal sends its
   * probes through {@code prober}, the other policies ignore it.
   *
   * @throws IllegalArgumentException for an unknown name
   */
  public static BalancingPolicy of(String name, LongSupplier random, Prequal.Prober prober) {
    RandomSource source = random::getAsLong;
    return switch (name) {
      case "round_robin" ->
          BalancingPolicy.of(
              name,
              (candidates, previous) -> {
                long start = previous instanceof RoundRobinPicker ? 0 : random.getAsLong();
                return RoundRobinPicker.create(candidates, previous, () -> start);
              });
      case "least_connections" ->
          BalancingPolicy.of(
              name,
              (candidates, previous) ->
                  LeastConnectionsPicker.create(candidates, previous, source));
      case "peak_ewma" ->
          BalancingPolicy.of(
              name, (candidates, previous) -> PeakEwmaPicker.create(candidates, previous, source));
      case "weighted_random" ->
          BalancingPolicy.of(
              name,
              (candidates, previous) -> WeightedRandomPicker.create(candidates, previous, source));
      case "consistent_hash" ->
          BalancingPolicy.of(
              name, (candidates, previous) -> RingHashPicker.create(candidates, null, source));
      case "prequal" -> Prequal.builder(prober).build(source);
      default ->
          throw new IllegalArgumentException(
              "unknown policy '" + name + "'; expected one of " + String.join(", ", NAMES));
    };
  }
}
