package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import org.jspecify.annotations.Nullable;

/*
 * Peak EWMA by power of two choices
 * ---------------------------------
 * The load metric of Finagle's PeakEwma (finagle-core loadbalancer/PeakEwma.scala, used by
 * Balancers.p2cPeakEwma) and Linkerd 2's proxy: a moving average of latency that jumps up to any
 * slower observation at once ("peak") and decays towards faster ones over a time window, times the
 * calls in flight plus one. So a member that turns slow loses traffic immediately and wins it back
 * gradually, and queueing (in-flight) counts as well as service time. Endpoint.cost(now) computes
 * it; this picker only samples two distinct members (as LeastConnectionsPicker does, see
 * TwoChoices) and keeps the one with the lower cost per unit of weight, comparing
 * costA * weightB <= costB * weightA (no division, no branch; ties to the first, random, sample).
 *
 * Two refinements live in Endpoint: failures are observed as at least the failure penalty
 * (a member that fails fast would otherwise look fast and attract traffic, a known weakness of
 * latency-only balancing in Linkerd), and a member with no latency yet but calls in flight costs
 * the most, so a new member is not piled onto before its first reply. The average decays towards
 * zero while a member gets no traffic, so an avoided member is probed again after a while.
 */

/**
 * Power of two choices on peak-EWMA latency × (in-flight + 1), weighted.
 *
 * <p>Immutable and thread-safe; picking never locks or allocates.
 */
final class PeakEwmaPicker implements Picker {
  private final Endpoint[] endpoints;
  private final double[] weights;
  private final boolean uniform;
  private final RandomSource random;

  private PeakEwmaPicker(Candidates candidates, RandomSource random) {
    this.endpoints = candidates.endpoints();
    this.weights = new double[endpoints.length];
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
    return new PeakEwmaPicker(candidates, random);
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
    double costA = es[a].cost(nowNanos);
    double costB = es[b].cost(nowNanos);
    if (!uniform) {
      costA *= weights[b];
      costB *= weights[a];
    }
    // Costs are non-negative, so their raw bits order like their values (+infinity included):
    // the difference of the bits picks the cheaper one without a branch (ties to a).
    long preferA = Double.doubleToRawLongBits(costB) - Double.doubleToRawLongBits(costA);
    return es[TwoChoices.choose(a, b, preferA)].asPickResult();
  }
}
