package dev.switchboard.lb;

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
 * @param panic whether too few endpoints are healthy, so health is ignored (Envoy's panic mode)
 * @param endpoints every member, in registry order
 */
public record ClusterSnapshot(
    String service,
    String policy,
    boolean registryDegraded,
    Optional<String> registryProblem,
    boolean panic,
    List<EndpointSnapshot> endpoints) {

  public ClusterSnapshot {
    endpoints = List.copyOf(endpoints);
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
