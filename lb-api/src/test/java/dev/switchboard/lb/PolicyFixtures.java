package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.SplittableRandom;

/** Candidates, seeded randomness, pick counting and a small load simulation for picker tests. */
final class PolicyFixtures {
  private PolicyFixtures() {}

  /** Candidates with the given weights, endpoints on ports 20000, 20001, ... */
  static Candidates candidates(int... weights) {
    Endpoint[] es = new Endpoint[weights.length];
    for (int i = 0; i < es.length; i++) {
      es[i] = TestEndpoints.create(20_000 + i, Math.min(weights[i], 10_000));
    }
    return Candidates.of(es, weights);
  }

  /** {@code n} candidates of weight 100. */
  static Candidates uniform(int n) {
    int[] w = new int[n];
    java.util.Arrays.fill(w, 100);
    return candidates(w);
  }

  /** The same endpoints as {@code c} minus the one at {@code index}, keeping identity. */
  static Candidates without(Candidates c, int index) {
    Endpoint[] es = new Endpoint[c.size() - 1];
    int[] w = new int[c.size() - 1];
    for (int i = 0, j = 0; i < c.size(); i++) {
      if (i != index) {
        es[j] = c.endpoint(i);
        w[j++] = c.weight(i);
      }
    }
    return Candidates.of(es, w);
  }

  /** A deterministic random source for single-threaded tests. */
  static RandomSource seeded(long seed) {
    return new SplittableRandom(seed)::nextLong;
  }

  /** A context that has already tried {@code excluded}. */
  static PickArgs excluding(Endpoint... excluded) {
    Exclusions ctx = Exclusions.of(CallContext.builder().build());
    for (Endpoint e : excluded) {
      ctx.exclude(e);
    }
    return ctx;
  }

  /** How often each candidate (by index) is picked in {@code picks} picks with {@code ctx}. */
  static int[] count(Picker picker, Candidates c, PickArgs ctx, int picks) {
    Map<Endpoint, Integer> index = indexOf(c);
    int[] counts = new int[c.size()];
    for (int k = 0; k < picks; k++) {
      counts[index.get(picker.pick(ctx, 0L).endpoint())]++;
    }
    return counts;
  }

  static Map<Endpoint, Integer> indexOf(Candidates c) {
    Map<Endpoint, Integer> index = new IdentityHashMap<>();
    for (int i = 0; i < c.size(); i++) {
      index.put(c.endpoint(i), i);
    }
    return index;
  }

  /**
   * Open-loop load: a call arrives every {@code intervalNanos}; the picked endpoint holds it for
   * {@code latencyNanos[i]} and then records {@code outcomes[i]} with that latency (so in-flight
   * counts and latency averages evolve as in a real client). Returns calls per candidate.
   */
  static int[] simulate(
      Picker picker,
      Candidates c,
      int calls,
      long intervalNanos,
      long[] latencyNanos,
      Outcome[] outcomes) {
    Map<Endpoint, Integer> index = indexOf(c);
    int[] counts = new int[c.size()];
    record Completion(long atNanos, int member) {}
    PriorityQueue<Completion> pending =
        new PriorityQueue<>((x, y) -> Long.compare(x.atNanos, y.atNanos));
    long now = 1_000_000_000L;
    for (int k = 0; k < calls; k++) {
      now += intervalNanos;
      while (!pending.isEmpty() && pending.peek().atNanos <= now) {
        Completion done = pending.poll();
        Endpoint e = c.endpoint(done.member);
        TestEndpoints.releaseHeld(e, 1);
        TestEndpoints.record(e, outcomes[done.member], latencyNanos[done.member], done.atNanos);
      }
      PickResult r = picker.pick(CallContext.DEFAULT, now);
      int i = index.get(r.endpoint());
      counts[i]++;
      TestEndpoints.hold(r.endpoint(), 1);
      pending.add(new Completion(now + latencyNanos[i], i));
    }
    return counts;
  }

  static double share(int[] counts, int i) {
    long total = 0;
    for (int x : counts) {
      total += x;
    }
    return (double) counts[i] / total;
  }
}
