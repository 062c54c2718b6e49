package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/*
 * Prequal's picker
 * ----------------
 * Each pick first sends its probes (the whole part of probesPerCall, plus one more with the
 * fraction's chance) to members drawn uniformly at random; the answers arrive later, on the
 * prober's thread, into the cluster's ProbePool, and serve later picks: probing is asynchronous and
 * never on the call's critical path (Prequal's central change to power of d choices). Then the
 * pool's hot-cold rule picks; with no usable answer (cold start, a stock server that does not
 * answer probes, every answer expired) the pick falls back to least connections on this client's
 * own in-flight counts.
 *
 * The cluster's probe budget (ProbePool.tryProbe) bounds what probing costs the servers; a pick
 * whose probes it held back may reuse answers past maxUses (their RIF still follows this client's calls in flight).
 *
 * Weights: Prequal balances on load reports, which already reflect a member's capacity, so
 * registered weights and slow start only shape the fallback and the probe targets are uniform.
 *
 * The pool outlives pickers: a rebuild hands the previous picker's pool to the new one and tells
 * it the new members, so answers survive membership changes.
 */

/** Picks by probe answers (Prequal), else least connections. Thread-safe; never locks. */
final class PrequalPicker implements Picker {
  private final Endpoint[] endpoints;
  private final ProbePool pool;
  private final Prequal.Prober prober;
  private final int wholeProbes;
  private final long fractionThreshold;
  private final RandomSource random;
  private final Picker fallback;

  private PrequalPicker(
      Candidates candidates,
      ProbePool pool,
      Prequal.Prober prober,
      double probesPerCall,
      RandomSource random) {
    this.endpoints = candidates.endpoints();
    this.pool = pool;
    this.prober = prober;
    this.wholeProbes = (int) Math.floor(probesPerCall);
    double fraction = probesPerCall - wholeProbes;
    // A draw in [0, 2^53) below fraction × 2^53 sends the extra probe.
    this.fractionThreshold = (long) (fraction * (1L << 53));
    this.random = random;
    this.fallback = LeastConnectionsPicker.create(candidates, null, random);
  }

  static Picker create(
      Candidates candidates,
      @Nullable Picker previous,
      Prequal.Prober prober,
      double probesPerCall,
      ProbePool.Settings settings,
      RandomSource random) {
    ProbePool pool =
        previous instanceof PrequalPicker p && p.pool.settings().equals(settings)
            ? p.pool
            : new ProbePool(settings);
    Set<Endpoint> members = Collections.newSetFromMap(new IdentityHashMap<>());
    Collections.addAll(members, candidates.endpoints());
    pool.members(Collections.unmodifiableSet(members));
    return new PrequalPicker(candidates, pool, prober, probesPerCall, random);
  }

  /** This cluster's probe answers (tests). */
  ProbePool pool() {
    return pool;
  }

  @Override
  public PickResult pick(PickArgs args, long nowNanos) {
    boolean capped = !sendProbes(nowNanos);
    Endpoint chosen = pool.select(args, nowNanos, capped);
    return chosen != null ? chosen.asPickResult() : fallback.pick(args, nowNanos);
  }

  /** Sends this pick's probes; false if the probe budget held any back. */
  private boolean sendProbes(long nowNanos) {
    int probes = wholeProbes;
    if (fractionThreshold != 0 && (random.nextLong() >>> 11) < fractionThreshold) {
      probes++;
    }
    Endpoint[] es = endpoints;
    for (int i = 0; i < probes; i++) {
      if (!pool.tryProbe(nowNanos)) {
        return false;
      }
      prober.probe(es[RandomSource.below(random.nextLong(), es.length)], pool);
    }
    return true;
  }
}
