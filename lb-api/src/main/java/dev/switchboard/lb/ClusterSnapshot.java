package dev.switchboard.lb;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * A cluster at one moment: every endpoint with why it is or is not eligible, whether the registry
 * is trusted right now, and whether panic mode is on. Immutable.
 *
 * @param service the service name
 * @param policy the balancing policy's name
 * @param registryDegraded whether the registry failed, went silent or returned an update the
 *     cluster refused (empty, or a mass removal); the members shown are then the last known
 * @param registryProblem what went wrong with the registry, empty when it is healthy
 * @param registryAge how long ago the cluster last applied a member list from the registry (or the
 *     registry confirmed it unchanged, see {@link
 *     dev.switchboard.lb.ServiceRegistry.MembershipListener#onConfirmed}); since the cluster was
 *     built if it never did. Refused updates (empty, see {@code registryDegraded}) do not count.
 *     Registries that only push changes let this grow while a healthy service does not change, so
 *     read it together with {@code registryDegraded}
 * @param panic whether too few endpoints are healthy, so health is ignored (Envoy's panic mode)
 * @param endpoints every member, in registry order
 */
public record ClusterSnapshot(
    String service,
    String policy,
    boolean registryDegraded,
    Optional<String> registryProblem,
    Duration registryAge,
    boolean panic,
    List<EndpointSnapshot> endpoints) {

  public ClusterSnapshot {
    if (registryAge.isNegative()) {
      throw new IllegalArgumentException("registryAge must not be negative but was " + registryAge);
    }
    endpoints = List.copyOf(endpoints);
  }

  /** A snapshot with a registry age of zero, for snapshots built by hand (tests, renderers). */
  public ClusterSnapshot(
      String service,
      String policy,
      boolean registryDegraded,
      Optional<String> registryProblem,
      boolean panic,
      List<EndpointSnapshot> endpoints) {
    this(service, policy, registryDegraded, registryProblem, Duration.ZERO, panic, endpoints);
  }

  /** The endpoints that can take calls now. */
  public long eligibleCount() {
    return endpoints.stream().filter(EndpointSnapshot::receivesTraffic).count();
  }

  /** The endpoint at {@code address} ({@code host:port}), if a member. */
  public Optional<EndpointSnapshot> endpoint(String address) {
    return endpoints.stream().filter(e -> e.address().equals(address)).findFirst();
  }
}
