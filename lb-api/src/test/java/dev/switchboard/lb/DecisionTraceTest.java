package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The decision trace's lines, captured through its sink, on a fake clock. */
class DecisionTraceTest {
  private final ClusterFixture f = new ClusterFixture();
  private final Lines lines = new Lines();

  /** A sink that keeps every line, with DEBUG on or off. */
  static final class Lines implements DecisionTrace.Sink {
    final List<String> info = new CopyOnWriteArrayList<>();
    final List<String> debug = new CopyOnWriteArrayList<>();
    final AtomicInteger debugChecks = new AtomicInteger();
    volatile boolean debugEnabled;

    @Override
    public boolean isInfoEnabled() {
      return true;
    }

    @Override
    public boolean isDebugEnabled() {
      debugChecks.incrementAndGet();
      return debugEnabled;
    }

    @Override
    public void info(String line) {
      info.add(line);
    }

    @Override
    public void debug(String line) {
      debug.add(line);
    }
  }

  private DecisionTrace.Builder trace() {
    return DecisionTrace.builder().sink(lines).ticker(f.clock);
  }

  private static void calls(Cluster cluster, int n) {
    for (int i = 0; i < n; i++) {
      ClusterFixture.call(cluster, Outcome.SUCCESS);
    }
  }

  @Test
  void ejectionAndRestore_loggedAtInfo_withEndpointReasonAndDuration() {
    f.addMembers(9001, 3);
    OutlierDetection od =
        new OutlierDetection(3, Duration.ofSeconds(30), Duration.ofMinutes(5), 50);
    try (Cluster cluster =
        f.builder()
            .disableCircuitBreaker()
            .outlierDetection(od)
            .listener(trace().build())
            .build()) {
      assertThat(lines.info)
          .containsExactly(
              "Service 'echo': 127.0.0.1:9001 joined (id 127.0.0.1:9001, weight 100)",
              "Service 'echo': 127.0.0.1:9002 joined (id 127.0.0.1:9002, weight 100)",
              "Service 'echo': 127.0.0.1:9003 joined (id 127.0.0.1:9003, weight 100)");
      lines.info.clear();

      f.clock.advance(Duration.ofSeconds(12));
      Endpoint bad = ClusterMembershipTest.endpoint(cluster, "127.0.0.1:9002");
      for (int i = 0; i < 3; i++) {
        bad.tryReserve(Integer.MAX_VALUE);
        cluster.finish(bad, Outcome.CONNECT_FAILURE, 1000, f.clock.read(), false);
      }
      assertThat(lines.info)
          .containsExactly(
              "Service 'echo': ejected 127.0.0.1:9002 for 30.0 s by outlier detection after 3"
                  + " consecutive failures (3 of 3 calls failed so far)",
              "Service 'echo': 127.0.0.1:9002 is now ejected (was eligible for 12.0 s)");
      lines.info.clear();

      f.clock.advance(Duration.ofSeconds(30));
      assertThat(lines.info)
          .containsExactly(
              "Service 'echo': restored 127.0.0.1:9002 after its 30.0 s ejection",
              "Service 'echo': 127.0.0.1:9002 is now eligible (was ejected for 30.0 s)");
      assertThat(lines.debug).isEmpty();
    }
  }

  @Test
  void breakerAndDraining_loggedAsEligibilityChanges() {
    f.addMembers(9001, 2);
    CircuitBreakerConfig small =
        CircuitBreakerConfig.custom()
            .slidingWindowSize(4)
            .minimumNumberOfCalls(4)
            .failureRateThreshold(50)
            .waitDurationInOpenState(Duration.ofSeconds(10))
            .build();
    try (Cluster cluster =
        f.builder()
            .circuitBreaker(small)
            .outlierDetection(OutlierDetection.disabled())
            .listener(trace().build())
            .build()) {
      lines.info.clear();
      Endpoint e = ClusterMembershipTest.endpoint(cluster, "127.0.0.1:9001");
      f.clock.advance(Duration.ofMillis(250));
      for (int i = 0; i < 4; i++) {
        e.tryReserve(Integer.MAX_VALUE);
        cluster.finish(e, Outcome.TIMEOUT, 1000, f.clock.read(), false);
      }
      f.registry.add(
          ServiceInstance.builder(ClusterFixture.SERVICE, "127.0.0.1", 9002)
              .draining(true)
              .build());
      assertThat(lines.info)
          .containsExactly(
              "Service 'echo': 127.0.0.1:9001 is now circuit breaker open (was eligible for 250 ms)",
              "Service 'echo': 127.0.0.1:9002 is now draining (was eligible for 250 ms)");
    }
  }

  @Test
  void picks_notTraced_whileDebugIsOff() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().listener(trace().samplePicks(1).build()).build()) {
      calls(cluster, 20);
      assertThat(lines.debug).isEmpty();
      assertThat(lines.debugChecks).hasValue(20); // one cheap check per pick, nothing built
    }
  }

  @Test
  void picks_tracedAtDebug_withEveryCandidateAndTheChosenOneMarked() {
    f.addMembers(9001, 3);
    lines.debugEnabled = true;
    try (Cluster cluster =
        f.builder(BalancingPolicy.leastConnections())
            .listener(trace().samplePicks(1).build())
            .build()) {
      Lease busy = cluster.acquire(); // one call in flight on some endpoint
      f.clock.advance(Duration.ofMillis(5));
      try (Lease lease = cluster.acquire()) {
        String line = lines.debug.get(1);
        String chosen = lease.endpoint().address();
        assertThat(line)
            .startsWith(
                "Service 'echo': picked " + chosen + " (least_connections) from 3 candidates: ")
            .contains("*" + chosen + " w=100 in-flight=0 ewma=-")
            .contains(busy.endpoint().address() + " w=100 in-flight=1 ewma=-");
        for (String a : List.of("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003")) {
          assertThat(line).contains(a + " w=100");
        }
        lease.complete(Outcome.SUCCESS);
      }
      busy.complete(Outcome.SUCCESS);
      assertThat(lines.debug).hasSize(2);
      assertThat(lines.info).hasSize(3); // the joins only
    }
  }

  @Test
  void picks_sampledOneInN() {
    f.addMembers(9001, 2);
    lines.debugEnabled = true;
    AtomicInteger draws = new AtomicInteger();
    DecisionTrace t = trace().samplePicks(4).draw(bound -> draws.getAndIncrement() % bound).build();
    try (Cluster cluster = f.builder().listener(t).build()) {
      calls(cluster, 12);
      assertThat(lines.debug).hasSize(3).allMatch(l -> l.contains("(round_robin, 1 in 4)"));
    }
  }

  @Test
  void pickLine_listsAtMostMaxCandidates_butAlwaysTheChosenOne() {
    f.addMembers(9001, 6);
    lines.debugEnabled = true;
    try (Cluster cluster =
        f.builder().listener(trace().samplePicks(1).maxCandidates(2).build()).build()) {
      calls(cluster, 6);
      assertThat(lines.debug).hasSize(6);
      for (String line : lines.debug) {
        String chosen = line.substring("Service 'echo': picked ".length(), line.indexOf(" ("));
        assertThat(line).contains("from 6 candidates: ").contains("*" + chosen + " w=");
        int listed = line.split(" w=").length - 1;
        assertThat(listed).isBetween(2, 3);
        assertThat(line).endsWith(", ... " + (6 - listed) + " more");
      }
    }
  }

  @Test
  void addedToARunningCluster_hearsCurrentMembersThenLaterPicks() {
    f.addMembers(9001, 2);
    lines.debugEnabled = true;
    try (Cluster cluster = f.builder().build()) {
      calls(cluster, 3);
      cluster.addListener(trace().samplePicks(1).build());
      assertThat(lines.info).hasSize(2).allMatch(l -> l.contains(" joined "));
      calls(cluster, 3);
      assertThat(lines.debug).hasSize(3);
    }
  }

  @Test
  void defaultSink_logsThroughSlf4j_withoutFailing() {
    f.addMembers(9001, 2);
    DecisionTrace slf4j =
        DecisionTrace.builder()
            .logger(LoggerFactory.getLogger("dev.switchboard.lb.DecisionTraceTest"))
            .samplePicks(1)
            .build();
    try (Cluster cluster = f.builder().listener(slf4j).listener(DecisionTrace.create()).build()) {
      calls(cluster, 3);
      assertThat(cluster.snapshot().endpoints()).extracting(EndpointSnapshot::calls).contains(1L);
    }
  }

  @Test
  void builder_rejectsBadValues_namingThem() {
    assertThatThrownBy(() -> DecisionTrace.builder().samplePicks(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("samplePicks must be at least 1 but was 0");
    assertThatThrownBy(() -> DecisionTrace.builder().maxCandidates(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxCandidates must be at least 1 but was 0");
  }

  @Test
  void durations_readForHumans() {
    assertThat(DecisionTrace.duration(850_000_000L)).isEqualTo("850 ms");
    assertThat(DecisionTrace.duration(12_500_000_000L)).isEqualTo("12.5 s");
    assertThat(DecisionTrace.duration(Duration.ofMinutes(3).toNanos())).isEqualTo("3.0 min");
  }
}
