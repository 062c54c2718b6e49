package dev.switchboard.lb.status;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.OutlierDetection;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import java.time.Duration;

/** Live clusters over a static registry, for the status and metrics tests. */
public final class StatusFixture {
  public static final String SERVICE = "echo";

  private StatusFixture() {}

  public static ServiceInstance instance(int port, String zone) {
    return ServiceInstance.builder(SERVICE, "127.0.0.1", port).zone(zone).build();
  }

  /**
   * A round-robin cluster with updates applied at once (so registry changes are visible when the
   * registry call returns) and ejection after 3 failures in a row for a minute.
   */
  public static Cluster cluster(StaticRegistry registry) {
    return Cluster.builder(SERVICE)
        .registry(registry)
        .policy(BalancingPolicy.roundRobin())
        .updateDebounce(Duration.ZERO)
        .outlierDetection(new OutlierDetection(3, Duration.ofMinutes(1), Duration.ofMinutes(1), 50))
        .build();
  }

  /** Fails every call that lands on {@code address} (others succeed) until it is ejected. */
  public static void eject(Cluster cluster, String address) {
    for (int i = 0; i < 100; i++) {
      if (cluster.snapshot().endpoint(address).orElseThrow().eligibility() == Eligibility.EJECTED) {
        return;
      }
      try (Lease lease = cluster.acquire()) {
        lease.complete(
            lease.endpoint().address().equals(address)
                ? Outcome.TRANSPORT_FAILURE
                : Outcome.SUCCESS);
      }
    }
    throw new AssertionError(address + " was not ejected: " + cluster.snapshot());
  }
}
