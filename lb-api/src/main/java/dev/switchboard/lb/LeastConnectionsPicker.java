package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import org.jspecify.annotations.Nullable;

/*
 * Least connections by power of two choices
 * -----------------------------------------
 * Scanning every member for the least loaded one costs O(n) per pick and, worse, sends every
 * concurrent caller to the same momentarily idle member (herding). Sampling two members at random
 * and taking the less loaded one is O(1), avoids herding, and is exponentially better than one
 * random choice (Mitzenmacher, "The Power of Two Choices in Randomized Load Balancing", 2001;
 * Finagle's finagle-core loadbalancer/p2c/P2CPick.scala and Balancers.p2c; Envoy's
 * LEAST_REQUEST with choice_count 2).
 *
 * Load is (in-flight + 1) / weight, so a member with twice the weight takes about twice the
 * concurrent calls; the "+ 1" makes idle members of different weights comparable. The comparison
 * cross-multiplies, (inFlightA + 1) * weightB <= (inFlightB + 1) * weightA, so there is no division
 * on the pick path. Ties go to the first sample, which is uniformly random, so they stay fair.
 *
 * The two samples are always distinct (Envoy#11004: independent draws pick the same member twice
 * with probability 1/n, so with 2 members half the picks were no choice at all). Both come from
 * one 64-bit draw (see TwoChoices). A sample the call has excluded is replaced by the next
 * non-excluded member after it; with one member left, that one is returned without comparison.
 */

/**
 * Power of two choices on weighted in-flight counts.
 *
 * <p>Immutable and thread-safe; picking never locks or allocates.
 */
final class LeastConnectionsPicker implements Picker {
  private final Endpoint[] endpoints;
  private final long[] weights;
  private final boolean uniform;
  private final RandomSource random;

  private LeastConnectionsPicker(Candidates candidates, RandomSource random) {
    this.endpoints = candidates.endpoints();
    this.weights = new long[endpoints.length];
    for (int i = 0; i < endpoints.length; i++) {
      weights[i] = candidates.weight(i);
    }
    this.uniform = candidates.hasUniformWeights();
    this.random = random;
  }

  static Picker create(Candidates candidates, @Nullable Picker previous) {
    return create(candidates, previous, RandomSource.THREAD_LOCAL);
  }

  static Picker create(Candidates candidates, @Nullable Picker previous, RandomSource random) {
    return new LeastConnectionsPicker(candidates, random);
  }

  @Override
  public PickResult pick(PickArgs args, long nowNanos) {
    Endpoint[] es = endpoints;
    long sample = TwoChoices.sample(es, args, random);
    if (sample == TwoChoices.NONE) {
      return PickResult.none();
    }
    int a = TwoChoices.a(sample);
    int b = TwoChoices.b(sample);
    if (a == b) {
      return es[a].asPickResult();
    }
    long loadA = es[a].inFlight() + 1L;
    long loadB = es[b].inFlight() + 1L;
    // Prefer a when loadA / weightA <= loadB / weightB.
    long preferA = uniform ? loadB - loadA : loadB * weights[a] - loadA * weights[b];
    return es[TwoChoices.choose(a, b, preferA)].asPickResult();
  }
}
