package dev.switchboard.lb;

import java.util.List;

/**
 * Where service instances announce themselves and where clients learn who serves a service.
 *
 * <p>Implementations must be thread-safe. Listeners receive whole snapshots, never deltas; an
 * implementation must not call a listener concurrently with itself for the same subscription.
 * Closing the registry closes every registration and subscription made through it.
 */
public interface ServiceRegistry extends AutoCloseable {

  /**
   * Registers {@code instance}; it stays registered until the returned registration is closed or
   * the registry is closed. Implementations backed by sessions (ZooKeeper, Consul) re-register by
   * themselves after the session is lost.
   *
   * @throws RegistryException if the registry refused or could not be reached
   */
  Registration register(ServiceInstance instance);

  /**
   * Watches the members of {@code service}. The listener receives the current members soon after
   * this call returns, then a fresh snapshot after each change.
   */
  Subscription watch(String service, MembershipListener listener);

  /** Closes every registration and subscription of this registry; idempotent. */
  @Override
  void close();

  /**
   * One instance's registration. Closing it deregisters the instance; closing twice does nothing.
   * Implementations must be thread-safe.
   */
  interface Registration extends AutoCloseable {

    /** The instance as last written to the registry (draining set after {@link #drain()}). */
    ServiceInstance instance();

    /**
     * Marks the instance draining in the registry: clients stop sending it new calls while it stays
     * registered, so in-flight calls can finish before {@link #close()}.
     *
     * @throws RegistryException if the registry could not be updated
     */
    void drain();

    /** Deregisters the instance; idempotent. */
    @Override
    void close();
  }

  /** A watch on one service's members. Closing it stops notifications; idempotent. Thread-safe. */
  interface Subscription extends AutoCloseable {

    /** Stops notifications to the listener; idempotent. */
    @Override
    void close();
  }

  /**
   * Receives the members of a watched service as whole snapshots. Called by the registry's own
   * threads, never concurrently for one subscription; implementations must be quick and must not
   * block.
   */
  interface MembershipListener {

    /**
     * The service's members right now. An empty list means the registry saw no members; the cluster
     * decides whether to believe it (see keep-last-known in {@code Cluster}).
     */
    void onMembers(List<ServiceInstance> members);

    /**
     * The registry could not tell who the members are (disconnected, session lost, bad response).
     * The listener keeps what it knew; a later {@link #onMembers} ends the degraded state.
     */
    default void onError(Throwable error) {}

    /**
     * The registry checked and the members are still those it last delivered (a poll that found no
     * change). Optional: a registry that calls it lets the cluster report how fresh its view is
     * ({@code ClusterSnapshot.registryAge()}) without re-sending an unchanged list.
     */
    default void onConfirmed() {}
  }
}
