package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import org.jspecify.annotations.Nullable;

/*
 * Weighted random by the alias method
 * -----------------------------------
 * Each member is picked with probability weight / totalWeight, independently of every other pick
 * and of load. Instead of a binary search over cumulative weights (O(log n) unpredictable
 * branches), the picker precomputes Walker's alias table with Vose's construction ("A Linear
 * Algorithm for Generating Random Numbers with a Given Distribution", IEEE TSE 1991), in exact
 * integer arithmetic: n columns of height totalWeight; column i holds member i up to
 * threshold[i] and member alias[i] above it. A pick draws a column and a height from one 64-bit
 * random (the column from the high word of random × n, the height from the low word, which is
 * uniform and independent of it) and reads two arrays: O(1) whatever the member count.
 *
 * Equal weights skip the table: the column is the answer.
 *
 * Exclusions: a sample the call has excluded is redrawn up to MAX_REDRAWS times; after that (the
 * excluded members hold most of the weight) one draw over the remaining members' cumulative
 * weights, O(n), keeps the choice in proportion to weight; none when every member is excluded.
 */

/**
 * Random choice in proportion to weight.
 *
 * <p>Immutable and thread-safe; picking never locks or allocates.
 */
final class WeightedRandomPicker implements Picker {
  private static final int MAX_REDRAWS = 3;

  private final Endpoint[] endpoints;
  private final int[] weights;
  private final long total;
  private final long @Nullable [] thresholds;
  private final int @Nullable [] aliases;
  private final RandomSource random;

  private WeightedRandomPicker(Candidates candidates, RandomSource random) {
    this.endpoints = candidates.endpoints();
    this.weights = candidates.weights();
    this.total = candidates.totalWeight();
    this.random = random;
    if (candidates.hasUniformWeights()) {
      this.thresholds = null;
      this.aliases = null;
    } else {
      int n = endpoints.length;
      this.thresholds = new long[n];
      this.aliases = new int[n];
      buildAliasTable(candidates, thresholds, aliases);
    }
  }

  static Picker create(Candidates candidates, @Nullable Picker previous) {
    return create(candidates, previous, RandomSource.THREAD_LOCAL);
  }

  static Picker create(Candidates candidates, @Nullable Picker previous, RandomSource random) {
    return new WeightedRandomPicker(candidates, random);
  }

  /** Vose's alias construction in integers: member i contributes weight × n to height sums. */
  private static void buildAliasTable(Candidates c, long[] thresholds, int[] aliases) {
    int n = c.size();
    long height = c.totalWeight();
    long[] scaled = new long[n];
    int[] small = new int[n];
    int[] large = new int[n];
    int smallCount = 0;
    int largeCount = 0;
    for (int i = 0; i < n; i++) {
      scaled[i] = (long) c.weight(i) * n;
      aliases[i] = i;
      if (scaled[i] < height) {
        small[smallCount++] = i;
      } else {
        large[largeCount++] = i;
      }
    }
    while (smallCount > 0 && largeCount > 0) {
      int s = small[--smallCount];
      int l = large[--largeCount];
      thresholds[s] = scaled[s];
      aliases[s] = l;
      scaled[l] -= height - scaled[s];
      if (scaled[l] < height) {
        small[smallCount++] = l;
      } else {
        large[largeCount++] = l;
      }
    }
    // Exact arithmetic leaves only full columns here.
    while (largeCount > 0) {
      thresholds[large[--largeCount]] = height;
    }
    while (smallCount > 0) {
      thresholds[small[--smallCount]] = height;
    }
  }

  @Override
  public PickResult pick(PickArgs args, long nowNanos) {
    Endpoint[] es = endpoints;
    int i = sample(random.nextLong());
    if (args.excludedCount() == 0 || !args.isExcluded(es[i])) {
      return es[i].asPickResult();
    }
    for (int k = 0; k < MAX_REDRAWS; k++) {
      i = sample(random.nextLong());
      if (!args.isExcluded(es[i])) {
        return es[i].asPickResult();
      }
    }
    return pickAmongRemaining(args);
  }

  private PickResult pickAmongRemaining(PickArgs args) {
    Endpoint[] es = endpoints;
    long remaining = 0;
    for (int i = 0; i < es.length; i++) {
      remaining += args.isExcluded(es[i]) ? 0 : weights[i];
    }
    if (remaining == 0) {
      return PickResult.none();
    }
    long y = RandomSource.below(random.nextLong(), remaining);
    for (int i = 0; i < es.length; i++) {
      if (!args.isExcluded(es[i])) {
        y -= weights[i];
        if (y < 0) {
          return es[i].asPickResult();
        }
      }
    }
    throw new AssertionError("unreachable: the draw is below the remaining weight");
  }

  private int sample(long r) {
    int n = endpoints.length;
    int column = RandomSource.below(r, n);
    long[] t = thresholds;
    if (t == null) {
      return column;
    }
    long y = RandomSource.below(r * n, total);
    // y < t[column] ? column : aliases[column], without a branch the predictor cannot learn.
    return TwoChoices.choose(column, aliases[column], t[column] - 1 - y);
  }

  /** The probability of member {@code i} in the table, times n × totalWeight; for tests. */
  long tableMass(int i) {
    long[] t = thresholds;
    int[] al = aliases;
    if (t == null || al == null) {
      return total;
    }
    long mass = t[i];
    for (int j = 0; j < t.length; j++) {
      if (al[j] == i && j != i) {
        mass += total - t[j];
      }
    }
    return mass;
  }
}
