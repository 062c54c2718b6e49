package dev.switchboard.lb;

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
}
