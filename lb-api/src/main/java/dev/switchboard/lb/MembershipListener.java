package dev.switchboard.lb;

import java.util.List;

/**
 * Receives the members of a watched service as whole snapshots. Called by the registry's own
 * threads, never concurrently for one subscription; implementations must be quick and must not
 * block.
 */
public interface MembershipListener {

  /**
   * The service's members right now. An empty list means the registry saw no members; the cluster
   * decides whether to believe it (see keep-last-known in {@code Cluster}).
   */
  void onMembers(List<ServiceInstance> members);

  /**
   * The registry could not tell who the members are (disconnected, session lost, bad response). The
   * listener keeps what it knew; a later {@link #onMembers} ends the degraded state.
   */
  default void onError(Throwable error) {}

  /**
   * The registry checked and the members are still those it last delivered (a poll that found no
   * change). Optional: a registry that calls it lets the cluster report how fresh its view is
   * ({@code ClusterSnapshot.registryAge()}) without re-sending an unchanged list.
   */
  default void onConfirmed() {}
}
