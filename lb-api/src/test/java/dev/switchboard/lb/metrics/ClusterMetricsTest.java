package dev.switchboard.lb.metrics;

import static dev.switchboard.lb.status.StatusFixture.SERVICE;
import static dev.switchboard.lb.status.StatusFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.registry.StaticRegistry;
import dev.switchboard.lb.status.StatusFixture;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ClusterMetricsTest {
  private static final String A = "127.0.0.1:9001";
  private static final String B = "127.0.0.1:9002";
  private static final String C = "127.0.0.1:9003";

  private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
  private final StaticRegistry registry =
      StaticRegistry.of(instance(9001, "zone-a"), instance(9002, "zone-b"), instance(9003, ""));

  private double gauge(String name, String endpoint) {
    return meters.get(name).tag("endpoint", endpoint).gauge().value();
  }

  private double counter(String name, String endpoint) {
    return meters.get(name).tag("endpoint", endpoint).functionCounter().count();
  }

  private double clusterGauge(String name) {
    return meters.get(name).tag("service", SERVICE).gauge().value();
  }

  private List<String> endpointsWithMeters() {
    return meters.getMeters().stream()
        .map(m -> m.getId().getTag("endpoint"))
        .filter(e -> e != null)
        .distinct()
        .sorted()
        .toList();
  }

  @Test
  void bind_registersEveryMeterWithServiceEndpointAndZoneTags() {
    try (Cluster cluster = StatusFixture.cluster(registry);
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      assertThat(endpointsWithMeters()).containsExactly(A, B, C);
      for (String name :
          List.of(
              ClusterMetrics.IN_FLIGHT,
              ClusterMetrics.EWMA,
              ClusterMetrics.BREAKER_STATE,
              ClusterMetrics.EJECTED,
              ClusterMetrics.WEIGHT)) {
        assertThat(meters.find(name).gauges()).as(name).hasSize(3);
      }
      for (String name : List.of(ClusterMetrics.CALLS, ClusterMetrics.FAILURES)) {
        assertThat(meters.find(name).functionCounters()).as(name).hasSize(3);
      }
      Meter.Id id = meters.get(ClusterMetrics.IN_FLIGHT).tag("endpoint", A).gauge().getId();
      assertThat(id.getTag("service")).isEqualTo(SERVICE);
      assertThat(id.getTag("zone")).isEqualTo("zone-a");
      assertThat(
              meters
                  .get(ClusterMetrics.IN_FLIGHT)
                  .tag("endpoint", C)
                  .gauge()
                  .getId()
                  .getTag("zone"))
          .isEqualTo("none");

      assertThat(clusterGauge(ClusterMetrics.ENDPOINTS)).isEqualTo(3);
      assertThat(clusterGauge(ClusterMetrics.ELIGIBLE)).isEqualTo(3);
      assertThat(clusterGauge(ClusterMetrics.PANIC)).isZero();
      assertThat(clusterGauge(ClusterMetrics.REGISTRY_DEGRADED)).isZero();
      assertThat(gauge(ClusterMetrics.WEIGHT, A)).isPositive();
      assertThat(gauge(ClusterMetrics.BREAKER_STATE, A)).isZero(); // CLOSED
    }
  }

  @Test
  void values_followRealLeases() {
    try (Cluster cluster = StatusFixture.cluster(registry);
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      Lease lease = cluster.acquire();
      String address = lease.endpoint().address();
      assertThat(gauge(ClusterMetrics.IN_FLIGHT, address)).isEqualTo(1);

      lease.complete(Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(40));
      assertThat(gauge(ClusterMetrics.IN_FLIGHT, address)).isZero();
      assertThat(counter(ClusterMetrics.CALLS, address)).isEqualTo(1);
      assertThat(counter(ClusterMetrics.FAILURES, address)).isZero();
      assertThat(gauge(ClusterMetrics.EWMA, address)).isBetween(30.0, 40.0);

      try (Lease failing = cluster.acquire()) {
        failing.complete(Outcome.TRANSPORT_FAILURE);
        assertThat(counter(ClusterMetrics.FAILURES, failing.endpoint().address())).isEqualTo(1);
        assertThat(counter(ClusterMetrics.CALLS, failing.endpoint().address())).isPositive();
      }
    }
  }

  @Test
  void ejection_showsInEndpointAndClusterGauges() {
    try (Cluster cluster = StatusFixture.cluster(registry);
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      assertThat(gauge(ClusterMetrics.EJECTED, B)).isZero();

      StatusFixture.eject(cluster, B);
      metrics.refresh(); // skip the snapshot cache rather than wait it out

      assertThat(gauge(ClusterMetrics.EJECTED, B)).isEqualTo(1);
      assertThat(gauge(ClusterMetrics.EJECTED, A)).isZero();
      assertThat(counter(ClusterMetrics.FAILURES, B)).isEqualTo(3);
      assertThat(clusterGauge(ClusterMetrics.ENDPOINTS)).isEqualTo(3);
      assertThat(clusterGauge(ClusterMetrics.ELIGIBLE)).isEqualTo(2);
    }
  }

  @Test
  void membership_addsMetersForNewEndpoints_andDropsThoseThatLeave() {
    try (Cluster cluster = StatusFixture.cluster(registry);
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      registry.add(instance(9004, "zone-a"));
      assertThat(endpointsWithMeters()).containsExactly(A, B, C, "127.0.0.1:9004");

      // An idle endpoint that leaves loses its meters at once.
      registry.remove(SERVICE, instance(9003, "").id());
      assertThat(endpointsWithMeters()).containsExactly(A, B, "127.0.0.1:9004");

      // One that leaves with a call in flight keeps them until that call finishes.
      Lease lease = cluster.acquire();
      String leaving = lease.endpoint().address();
      registry.remove(SERVICE, lease.instance().id());
      assertThat(endpointsWithMeters()).contains(leaving);
      assertThat(gauge(ClusterMetrics.IN_FLIGHT, leaving)).isEqualTo(1);
      lease.complete(Outcome.SUCCESS);
      assertThat(endpointsWithMeters()).doesNotContain(leaving).hasSize(2);
      metrics.refresh();
      assertThat(clusterGauge(ClusterMetrics.ENDPOINTS)).isEqualTo(2);
    }
  }

  @Test
  void degradedRegistry_showsInClusterGauge() {
    try (Cluster cluster = StatusFixture.cluster(registry);
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      registry.set(SERVICE, List.of());
      metrics.refresh();
      assertThat(clusterGauge(ClusterMetrics.REGISTRY_DEGRADED)).isEqualTo(1);
      assertThat(clusterGauge(ClusterMetrics.ENDPOINTS)).isEqualTo(3); // last known kept
    }
  }

  @Test
  void close_removesEveryMeter_andStopsFollowingTheCluster() {
    try (Cluster cluster = StatusFixture.cluster(registry)) {
      ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters);
      assertThat(meters.getMeters()).hasSize(4 + 3 * 7);

      metrics.close();
      metrics.close(); // idempotent

      assertThat(meters.getMeters()).isEmpty();
      registry.add(instance(9004, "zone-a"));
      assertThat(meters.getMeters()).isEmpty();
    }
  }

  @Test
  void closingTheCluster_dropsEndpointMeters() {
    Cluster cluster = StatusFixture.cluster(registry);
    try (ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      cluster.close();
      assertThat(endpointsWithMeters()).isEmpty();
      assertThat(meters.find(ClusterMetrics.ENDPOINTS).gauges()).hasSize(1);
    }
  }

  @Test
  void twoClusters_inOneRegistry_areTaggedApart() {
    try (Cluster one = StatusFixture.cluster(registry);
        Cluster two =
            Cluster.builder("other")
                .registry(
                    StaticRegistry.of(
                        dev.switchboard.lb.ServiceInstance.builder("other", "127.0.0.1", 9001)
                            .build()))
                .build();
        ClusterMetrics m1 = ClusterMetrics.bind(one, meters);
        ClusterMetrics m2 = ClusterMetrics.bind(two, meters)) {
      Collection<Gauge> inFlight =
          meters.find(ClusterMetrics.IN_FLIGHT).tag("endpoint", A).gauges();
      assertThat(inFlight)
          .extracting(g -> g.getId().getTag("service"))
          .containsExactlyInAnyOrder(SERVICE, "other");
      FunctionCounter calls =
          meters.get(ClusterMetrics.CALLS).tag("service", "other").functionCounter();
      assertThat(calls.count()).isZero();
    }
  }
}
