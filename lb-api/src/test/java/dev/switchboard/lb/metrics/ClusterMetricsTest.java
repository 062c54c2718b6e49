package dev.switchboard.lb.metrics;

import static dev.switchboard.lb.status.StatusFixture.SERVICE;
import static dev.switchboard.lb.status.StatusFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.FakeClock;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.OutlierDetection;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.TestClusters;
import dev.switchboard.lb.status.StatusFixture;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
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

  private Timer calls(String endpoint, Outcome outcome) {
    return meters
        .get(ClusterMetrics.CALLS)
        .tag("endpoint", endpoint)
        .tag("outcome", outcome.name())
        .timer();
  }

  private long callCount(String endpoint) {
    return meters.get(ClusterMetrics.CALLS).tag("endpoint", endpoint).timers().stream()
        .mapToLong(Timer::count)
        .sum();
  }

  private double clusterGauge(String name) {
    return meters.get(name).tag("service", SERVICE).gauge().value();
  }

  private static void finishOne(Cluster cluster, Outcome outcome) {
    try (Lease lease = cluster.acquire()) {
      lease.complete(outcome);
    }
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
      assertThat(meters.find(ClusterMetrics.FAILURES).functionCounters()).hasSize(3);
      assertThat(meters.find(ClusterMetrics.EJECTIONS).counters()).hasSize(3);
      // One calls timer per endpoint and outcome, registered up front so rates start at zero.
      assertThat(meters.find(ClusterMetrics.CALLS).timers()).hasSize(3 * Outcome.values().length);
      for (Outcome outcome : Outcome.values()) {
        assertThat(calls(A, outcome).count()).as(outcome.name()).isZero();
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
      assertThat(clusterGauge(ClusterMetrics.REGISTRY_STALENESS)).isNotNegative();
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
      assertThat(calls(address, Outcome.SUCCESS).count()).isEqualTo(1);
      assertThat(calls(address, Outcome.SUCCESS).totalTime(TimeUnit.MILLISECONDS)).isEqualTo(40);
      assertThat(counter(ClusterMetrics.FAILURES, address)).isZero();
      assertThat(gauge(ClusterMetrics.EWMA, address)).isBetween(30.0, 40.0);

      try (Lease failing = cluster.acquire()) {
        failing.complete(Outcome.TRANSPORT_FAILURE);
        String failed = failing.endpoint().address();
        assertThat(counter(ClusterMetrics.FAILURES, failed)).isEqualTo(1);
        assertThat(calls(failed, Outcome.TRANSPORT_FAILURE).count()).isEqualTo(1);
        assertThat(callCount(failed)).isPositive();
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
      assertThat(calls(B, Outcome.TRANSPORT_FAILURE).count()).isEqualTo(3);
      assertThat(meters.get(ClusterMetrics.EJECTIONS).tag("endpoint", B).counter().count())
          .isEqualTo(1);
      assertThat(meters.get(ClusterMetrics.EJECTIONS).tag("endpoint", A).counter().count())
          .isZero();
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
      // 5 cluster gauges; per endpoint 5 gauges, 1 function counter, 1 counter, 7 timers.
      assertThat(meters.getMeters()).hasSize(5 + 3 * (7 + Outcome.values().length));

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
      finishOne(two, Outcome.SUCCESS);
      assertThat(
              meters
                  .get(ClusterMetrics.CALLS)
                  .tags("service", "other", "endpoint", A, "outcome", "SUCCESS")
                  .timer()
                  .count())
          .isEqualTo(1);
      assertThat(
              meters
                  .get(ClusterMetrics.CALLS)
                  .tags("service", SERVICE, "endpoint", A, "outcome", "SUCCESS")
                  .timer()
                  .count())
          .isZero();
    }
  }

  @Test
  void callsTimer_countsEveryCall_fromManyThreads() throws Exception {
    int threads = 8;
    int perThread = 5_000;
    try (Cluster cluster = StatusFixture.cluster(registry);
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      java.util.concurrent.CountDownLatch start = new java.util.concurrent.CountDownLatch(1);
      List<Thread> workers = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Outcome outcome = t % 2 == 0 ? Outcome.SUCCESS : Outcome.APPLICATION_ERROR;
        Thread worker =
            new Thread(
                () -> {
                  try {
                    start.await();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                  }
                  for (int i = 0; i < perThread; i++) {
                    finishOne(cluster, outcome);
                  }
                });
        worker.start();
        workers.add(worker);
      }
      start.countDown();
      for (Thread worker : workers) {
        worker.join();
      }
      long total = callCount(A) + callCount(B) + callCount(C);
      assertThat(total).isEqualTo((long) threads * perThread);
      long successes =
          List.of(A, B, C).stream().mapToLong(a -> calls(a, Outcome.SUCCESS).count()).sum();
      assertThat(successes).isEqualTo((long) threads / 2 * perThread);
      for (String a : List.of(A, B, C)) {
        assertThat(callCount(a))
            .as(a)
            .isEqualTo(cluster.snapshot().endpoint(a).orElseThrow().calls());
      }
    }
  }

  /** Calls on a fake clock, so each outcome's latency is known exactly. */
  @Test
  void callsTimer_countsAndTimesEachOutcome_afterRealLeases() {
    FakeClock clock = new FakeClock();
    StaticRegistry one = StaticRegistry.of(instance(9001, "zone-a"));
    try (Cluster cluster =
            TestClusters.builder(SERVICE, one, clock)
                .outlierDetection(OutlierDetection.disabled())
                .build();
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      long millis = 1;
      for (Outcome outcome : Outcome.values()) {
        Lease lease = cluster.acquire();
        clock.advance(Duration.ofMillis(millis));
        if (outcome == Outcome.CANCELLED) {
          lease.close(); // closed without an outcome: timed as held
        } else {
          lease.complete(outcome);
        }
        Timer timer = calls(A, outcome);
        assertThat(timer.count()).as(outcome.name()).isEqualTo(1);
        assertThat(timer.totalTime(TimeUnit.MILLISECONDS)).as(outcome.name()).isEqualTo(millis);
        millis *= 2;
      }
      // A caller-measured latency is recorded as given.
      try (Lease lease = cluster.acquire()) {
        lease.complete(Outcome.SUCCESS, TimeUnit.MILLISECONDS.toNanos(500));
      }
      assertThat(calls(A, Outcome.SUCCESS).count()).isEqualTo(2);
      assertThat(calls(A, Outcome.SUCCESS).max(TimeUnit.MILLISECONDS)).isEqualTo(500);
      assertThat(callCount(A)).isEqualTo(Outcome.values().length + 1);
      // The endpoint's own failure count agrees with the failure outcomes' timers.
      long failureOutcomes =
          java.util.Arrays.stream(Outcome.values())
              .filter(Outcome::isEndpointFailure)
              .mapToLong(o -> calls(A, o).count())
              .sum();
      assertThat(counter(ClusterMetrics.FAILURES, A)).isEqualTo(failureOutcomes).isEqualTo(4);
    }
  }

  @Test
  void callsAfterClose_areNotRecorded_andDoNotResurrectMeters() {
    try (Cluster cluster = StatusFixture.cluster(registry)) {
      ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters);
      Lease lease = cluster.acquire(); // acquired while bound
      metrics.close();
      lease.complete(Outcome.SUCCESS);
      finishOne(cluster, Outcome.TIMEOUT);
      assertThat(meters.getMeters()).isEmpty();
    }
  }

  @Test
  void registryStaleness_growsWithTheClusterClock_andResetsOnAnUpdate() {
    FakeClock clock = new FakeClock();
    StaticRegistry one = StaticRegistry.of(instance(9001, "zone-a"));
    try (Cluster cluster = TestClusters.builder(SERVICE, one, clock).build();
        ClusterMetrics metrics = ClusterMetrics.bind(cluster, meters)) {
      assertThat(clusterGauge(ClusterMetrics.REGISTRY_STALENESS)).isZero();

      clock.advance(Duration.ofSeconds(90));
      metrics.refresh();
      assertThat(clusterGauge(ClusterMetrics.REGISTRY_STALENESS)).isEqualTo(90.0);

      one.add(instance(9002, "zone-a"));
      metrics.refresh();
      assertThat(clusterGauge(ClusterMetrics.REGISTRY_STALENESS)).isZero();

      clock.advance(Duration.ofMillis(2500));
      metrics.refresh();
      assertThat(clusterGauge(ClusterMetrics.REGISTRY_STALENESS)).isEqualTo(2.5);
      assertThat(meters.get(ClusterMetrics.REGISTRY_STALENESS).gauge().getId().getBaseUnit())
          .isEqualTo("seconds");
    }
  }
}
