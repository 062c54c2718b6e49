package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * An ejected member whose active check saw it fail and pass again is back at once (Envoy's
 * successful_active_health_check_uneject_host), not after its ejection; one whose check never
 * failed serves out its ejection.
 */
class HealthCheckUnejectTest {
  private final Map<Integer, Boolean> healthy = new ConcurrentHashMap<>();
  private final Map<Integer, AtomicInteger> probes = new ConcurrentHashMap<>();

  private boolean probe(ServiceInstance instance) {
    probes.computeIfAbsent(instance.port(), p -> new AtomicInteger()).incrementAndGet();
    return healthy.getOrDefault(instance.port(), true);
  }

  private int probes(int port) {
    return probes.computeIfAbsent(port, p -> new AtomicInteger()).get();
  }

  @Test
  void ejectedMember_checkFailsThenPasses_backBeforeEjectionEnds_checkNeverFailed_staysOut() {
    StaticRegistry registry =
        StaticRegistry.of(
            ServiceInstance.builder("echo", "127.0.0.1", 1).build(),
            ServiceInstance.builder("echo", "127.0.0.1", 2).build(),
            ServiceInstance.builder("echo", "127.0.0.1", 3).build(),
            ServiceInstance.builder("echo", "127.0.0.1", 4).build());
    ActiveHealthCheck check =
        ActiveHealthCheck.of((instance, timeout) -> probe(instance))
            .withInterval(Duration.ofMillis(20), Duration.ofMillis(20))
            .withThresholds(1, 1);
    try (Cluster cluster =
        Cluster.builder("echo")
            .registry(registry)
            .healthCheck(check)
            .outlierDetection(new OutlierDetection(2, Duration.ofHours(1), Duration.ofHours(1), 50))
            .panicThreshold(0)
            .updateDebounce(Duration.ZERO)
            .build()) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> cluster.snapshot().endpoints().size() == 4);
      eject(cluster, "127.0.0.1:1");
      eject(cluster, "127.0.0.1:2");
      healthy.put(1, false); // 1 is unreachable for a while; 2 keeps passing its check
      int seen = probes(1);
      await().atMost(Duration.ofSeconds(10)).until(() -> probes(1) >= seen + 2); // now failing

      healthy.put(1, true);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> eligibility(cluster, "127.0.0.1:1") == Eligibility.ELIGIBLE);
      int seen2 = probes(2);
      await().atMost(Duration.ofSeconds(10)).until(() -> probes(2) >= seen2 + 3);
      assertThat(eligibility(cluster, "127.0.0.1:2")).isEqualTo(Eligibility.EJECTED);
    }
  }

  /** Fails calls on {@code address} until it is ejected. */
  private static void eject(Cluster cluster, String address) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> {
              try (Lease lease = cluster.acquire()) {
                lease.complete(
                    lease.endpoint().address().equals(address) ? Outcome.TIMEOUT : Outcome.SUCCESS);
              }
              return eligibility(cluster, address) == Eligibility.EJECTED;
            });
  }

  private static Eligibility eligibility(Cluster cluster, String address) {
    return cluster.snapshot().endpoint(address).map(EndpointSnapshot::eligibility).orElseThrow();
  }
}
