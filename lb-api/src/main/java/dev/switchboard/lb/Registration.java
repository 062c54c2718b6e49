package dev.switchboard.lb;

/**
 * One instance's registration. Closing it deregisters the instance; closing twice does nothing.
 * Implementations must be thread-safe.
 */
public interface Registration extends AutoCloseable {

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
