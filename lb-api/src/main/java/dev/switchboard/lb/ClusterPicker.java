package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.Picker;
import org.jspecify.annotations.Nullable;

/**
 * What the cluster publishes after each rebuild: the policy's picker over the chosen candidates,
 * plus every member's eligibility at that moment (for snapshots and error messages). Immutable; the
 * arrays are never modified after construction.
 */
final class ClusterPicker {
  private static final Candidates NO_CANDIDATES = Candidates.of(new Endpoint[0], new int[0]);

  static final ClusterPicker EMPTY =
      new ClusterPicker(
          null,
          null,
          null,
          null,
          false,
          new Endpoint[0],
          new Eligibility[0],
          new boolean[0],
          new int[0]);

  final @Nullable Picker picker;

  /** Every eligible member, whatever its zone; null unless zone preference held some back. */
  final @Nullable Picker spillOver;

  /** What {@link #picker} chooses among; null when it is. */
  final @Nullable Candidates candidates;

  /** What {@link #spillOver} chooses among; null when it is. */
  final @Nullable Candidates spillOverCandidates;

  final boolean panic;
  final Endpoint[] members;
  final Eligibility[] reasons;
  final boolean[] receivesTraffic;
  final int[] effectiveWeights;

  ClusterPicker(
      @Nullable Picker picker,
      @Nullable Picker spillOver,
      @Nullable Candidates candidates,
      @Nullable Candidates spillOverCandidates,
      boolean panic,
      Endpoint[] members,
      Eligibility[] reasons,
      boolean[] receivesTraffic,
      int[] effectiveWeights) {
    this.picker = picker;
    this.spillOver = spillOver;
    this.candidates = candidates;
    this.spillOverCandidates = spillOverCandidates;
    this.panic = panic;
    this.members = members;
    this.reasons = reasons;
    this.receivesTraffic = receivesTraffic;
    this.effectiveWeights = effectiveWeights;
  }

  /**
   * The candidates {@code used} (this cluster picker's picker or spill-over picker) chooses among;
   * never throws, since the caller holds a reservation.
   */
  Candidates candidates(Picker used) {
    Candidates c = used == spillOver ? spillOverCandidates : candidates;
    return c != null ? c : NO_CANDIDATES;
  }
}
