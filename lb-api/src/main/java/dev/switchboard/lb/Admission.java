package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/*
 * Admission: from a pick to a lease, and back
 * ============================================
 * A pick names an endpoint; admitting the call there takes more: a slot under the endpoint's
 * in-flight limit (the bulkhead), an endpoint that has not left meanwhile, and, for a half-open
 * breaker, one of its probe permits. A refused endpoint is excluded for the rest of this acquire
 * only (the call's own tried set is untouched), and the pick repeats: spilling over to the other
 * zones when the local ones are all tried or refused, and repeating an endpoint the call already
 * tried rather than failing it when nothing else is left.
 *
 * Subsets: a call restricted to a Subset of members (by metadata) excludes every other member
 * for the whole acquire, repeats included, and a pick outside it counts as no pick: the call fails
 * with NoMatchingEndpointException rather than reach a member it must not.
 *
 * Release is the other half: the finished lease's outcome feeds the endpoint's counters and EWMA,
 * its breaker and outlier ejection; state changes go to the serial executor.
 */

/** Admits calls to picked endpoints and records them when they finish. Thread-safe. */
final class Admission {
  private final Cluster cluster;
  private final String service;
  private final ClusterState state;
  private final SerialExecutor serial;
  private final OutlierDetector outliers;
  private final int maxInFlight;

  Admission(
      Cluster cluster,
      ClusterState state,
      SerialExecutor serial,
      OutlierDetector outliers,
      int maxInFlight) {
    this.cluster = cluster;
    this.service = state.config.service();
    this.state = state;
    this.serial = serial;
    this.outliers = outliers;
    this.maxInFlight = maxInFlight;
  }

  /**
   * A lease on an endpoint {@code picker} picks for {@code args}, admitted as described above.
   *
   * @throws NoHealthyEndpointException if no candidate can take the call
   */
  Lease admit(
      ClusterPicker published,
      Picker picker,
      PickArgs args,
      long now,
      long attemptDeadlineNanos,
      boolean cancellable) {
    CallContext ctx = args.context();
    Subset subset = ctx.subset();
    PickArgs c = Within.restrict(args, subset);
    boolean spilled = false;
    boolean repeatAllowed = false;
    int refused = 0;
    for (int guard = 2 * published.members.length + 2; guard > 0; guard--) {
      PickResult result = picker.pick(c, now);
      if (!result.hasEndpoint()
          || (!subset.isAll() && !subset.matches(result.endpoint().instance()))) {
        if (!spilled && published.spillOver != null) {
          // Every local-zone candidate was tried or refused: spill over to the other zones.
          spilled = true;
          picker = published.spillOver;
          continue;
        }
        if (args.excludedCount() > 0 && !repeatAllowed) {
          // Every candidate was tried by earlier attempts: a repeat beats failing the call.
          repeatAllowed = true;
          c = Within.restrict(ctx, subset);
          continue;
        }
        break;
      }
      Endpoint e = result.endpoint();
      if (!e.tryReserve(maxInFlight)) {
        refused++;
        c = excluding(c, e);
        continue;
      }
      if (e.isRemoved()) {
        // Removed since this picker was published. Raising in-flight before reading the flag
        // (while removal sets the flag before reading in-flight) means the endpoint is never
        // closed under a lease: whoever sees the other's write last backs off.
        e.release();
        serial.execute(() -> state.closeIfIdle(e));
        c = excluding(c, e);
        published = state.published();
        picker = spilled && published.spillOver != null ? published.spillOver : published.picker;
        if (picker == null) {
          break;
        }
        continue;
      }
      boolean probe = false;
      Breaker breaker = e.health().breaker;
      if (breaker.isHalfOpen()) {
        if (!breaker.tryAcquireProbe()) {
          e.release();
          refused++;
          c = excluding(c, e);
          continue;
        }
        probe = true;
      }
      CallListener calls = cluster.callListener();
      Lease lease = new Lease(cluster, e, now, probe, calls, attemptDeadlineNanos, cancellable);
      if (calls != CallListener.NONE) {
        calls.callStarted(lease, published.candidates(picker));
      }
      return lease;
    }
    if (!subset.isAll()) {
      throw new NoMatchingEndpointException(
          service,
          subset,
          refused > 0
              ? "saturated (max " + maxInFlight + " in flight) or refusing half-open probes"
              : "not eligible, or already tried by this call",
          state.endpointSnapshots());
    }
    throw new NoHealthyEndpointException(
        service,
        refused > 0
            ? "every eligible member is saturated (max "
                + maxInFlight
                + " in flight) or refusing half-open probes"
            : "no eligible member is left for this call",
        state.endpointSnapshots());
  }

  /** {@code c} also excluding {@code e}, for the rest of one acquire (refused or removed). */
  private static PickArgs excluding(PickArgs c, Endpoint e) {
    return new Refused(c, e);
  }

  /** A pick's own refusals on top of the call's exclusions; made only when a pick is refused. */
  private record Refused(PickArgs call, Endpoint refused) implements PickArgs {
    @Override
    public CallContext context() {
      return call.context();
    }

    @Override
    public boolean isExcluded(Endpoint endpoint) {
      return endpoint == refused || call.isExcluded(endpoint);
    }

    @Override
    public int excludedCount() {
      return call.excludedCount() + 1;
    }
  }

  /** A call's exclusions plus every member outside its subset; made only for subset calls. */
  private record Within(PickArgs call, Subset subset) implements PickArgs {
    static PickArgs restrict(PickArgs call, Subset subset) {
      return subset.isAll() ? call : new Within(call, subset);
    }

    @Override
    public CallContext context() {
      return call.context();
    }

    @Override
    public boolean isExcluded(Endpoint endpoint) {
      return !subset.matches(endpoint.instance()) || call.isExcluded(endpoint);
    }

    @Override
    public int excludedCount() {
      return call.excludedCount() + 1; // at least one: pickers must consult isExcluded
    }
  }

  /** Records a finished call on {@code e}. */
  void release(Endpoint e, Outcome outcome, long latencyNanos, long nowNanos, boolean probe) {
    e.release();
    Breaker breaker = e.health().breaker;
    if (outcome == Outcome.CANCELLED) {
      if (probe) {
        breaker.releaseProbe();
      }
    } else {
      int consecutive = e.record(outcome, latencyNanos, nowNanos);
      CircuitBreaker.State before = breaker.record(outcome, latencyNanos);
      if (before != null) {
        serial.execute(() -> outliers.breakerChanged(e, before));
      }
      if (outliers.shouldCheck(consecutive)) {
        serial.execute(() -> outliers.ejectionCheck(e));
      }
    }
    if (e.isRemoved()) {
      serial.execute(() -> state.closeIfIdle(e));
    }
  }
}
