package dev.switchboard.lb;

import dev.switchboard.lb.policy.Picker;
import org.jspecify.annotations.Nullable;

/**
 * What the cluster publishes after each rebuild: the policy's picker over the chosen candidates,
 * plus every member's eligibility at that moment (for snapshots and error messages). Immutable; the
 * arrays are never modified after construction.
 */
final class ClusterPicker {
  static final ClusterPicker EMPTY =
      new ClusterPicker(
          null, null, false, new Endpoint[0], new Eligibility[0], new boolean[0], new int[0]);

  final @Nullable Picker picker;

  /** Every eligible member, whatever its zone; null unless zone preference held some back. */
  final @Nullable Picker spillOver;

  final boolean panic;
  final Endpoint[] members;
  final Eligibility[] reasons;
  final boolean[] receivesTraffic;
  final int[] effectiveWeights;

  ClusterPicker(
      @Nullable Picker picker,
      @Nullable Picker spillOver,
      boolean panic,
      Endpoint[] members,
      Eligibility[] reasons,
      boolean[] receivesTraffic,
      int[] effectiveWeights) {
    this.picker = picker;
    this.spillOver = spillOver;
    this.panic = panic;
    this.members = members;
    this.reasons = reasons;
    this.receivesTraffic = receivesTraffic;
    this.effectiveWeights = effectiveWeights;
  }
}
