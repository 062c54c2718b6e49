package dev.switchboard.lb;

import static dev.switchboard.lb.ClusterFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Breaker, ejection, panic, slow start and zone state machines, on a fake clock. */
class ClusterHealthTest {
  private final ClusterFixture f = new ClusterFixture();

  private static final CircuitBreakerConfig SMALL_BREAKER =
      CircuitBreakerConfig.custom()
          .slidingWindowSize(4)
          .minimumNumberOfCalls(4)
          .failureRateThreshold(50)
          .waitDurationInOpenState(Duration.ofSeconds(10))
          .permittedNumberOfCallsInHalfOpenState(2)
          .build();

  /**
   * Makes calls until {@code until} holds (at most 1000): calls to {@code address} end with {@code
   * outcome}, the others succeed. Returns the calls per address.
   */
  private static Map<String, Integer> callsUntil(
      Cluster cluster, String address, Outcome outcome, java.util.function.BooleanSupplier until) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < 1000 && !until.getAsBoolean(); i++) {
      try (Lease lease = cluster.acquire()) {
        String a = lease.endpoint().address();
        counts.merge(a, 1, Integer::sum);
        lease.complete(a.equals(address) ? outcome : Outcome.SUCCESS);
      }
    }
    assertThat(until.getAsBoolean()).as("condition reached within 1000 calls").isTrue();
    return counts;
  }

  private static Map<String, Integer> spread(Cluster cluster, int calls) {
    Map<String, Integer> counts = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      counts.merge(ClusterFixture.call(cluster, Outcome.SUCCESS), 1, Integer::sum);
    }
    return counts;
  }

  private static EndpointSnapshot snap(Cluster cluster, String address) {
    return cluster.snapshot().endpoint(address).orElseThrow();
  }

  @Test
  void breaker_opensOnFailures_probesAfterWait_closesOnSuccess() {
    f.addMembers(9001, 3);
    try (Cluster cluster =
        f.builder()
            .circuitBreaker(SMALL_BREAKER)
            .outlierDetection(OutlierDetection.disabled())
            .build()) {
      String bad = "127.0.0.1:9001";
      callsUntil(
          cluster,
          bad,
          Outcome.TRANSPORT_FAILURE,
          () -> snap(cluster, bad).breakerState() == CircuitBreaker.State.OPEN);
      assertThat(snap(cluster, bad).eligibility()).isEqualTo(Eligibility.CIRCUIT_OPEN);
      assertThat(spread(cluster, 60)).doesNotContainKey(bad);

      f.clock.advance(Duration.ofSeconds(10).plusMillis(5));
      assertThat(snap(cluster, bad).breakerState()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
      assertThat(snap(cluster, bad).receivesTraffic()).isTrue();

      callsUntil(
          cluster,
          bad,
          Outcome.SUCCESS,
          () -> snap(cluster, bad).breakerState() == CircuitBreaker.State.CLOSED);
      assertThat(snap(cluster, bad).eligibility()).isEqualTo(Eligibility.ELIGIBLE);
    }
  }

  /** Every way back into traffic ramps the endpoint up again instead of flooding it. */
  @Test
  void slowStart_reEnteredAfterBreakerRecovery_andAfterRetryAfter() {
    f.addMembers(9001, 2);
    try (Cluster cluster =
        f.builder()
            .circuitBreaker(SMALL_BREAKER)
            .outlierDetection(OutlierDetection.disabled())
            .slowStart(Duration.ofSeconds(30))
            .build()) {
      String bad = "127.0.0.1:9001";
      f.clock.advance(Duration.ofSeconds(31)); // the initial members' ramp is over
      assertThat(snap(cluster, bad).inSlowStart()).isFalse();
      callsUntil(
          cluster,
          bad,
          Outcome.TRANSPORT_FAILURE,
          () -> snap(cluster, bad).breakerState() == CircuitBreaker.State.OPEN);
      f.clock.advance(Duration.ofSeconds(10).plusMillis(5));
      callsUntil(
          cluster,
          bad,
          Outcome.SUCCESS,
          () -> snap(cluster, bad).breakerState() == CircuitBreaker.State.CLOSED);
      assertThat(snap(cluster, bad).inSlowStart()).as("after the breaker closed").isTrue();

      f.clock.advance(Duration.ofSeconds(31));
      assertThat(snap(cluster, bad).inSlowStart()).isFalse();
      Endpoint e;
      try (Lease lease = cluster.acquire()) {
        e = lease.endpoint();
        lease.backOff(Duration.ofSeconds(2)); // an HTTP 503's Retry-After
        lease.complete(Outcome.OVERLOADED);
      }
      assertThat(snap(cluster, e.address()).inSlowStart()).isFalse();
      assertThat(snap(cluster, e.address()).eligibility()).isEqualTo(Eligibility.BACKED_OFF);
      f.clock.advance(Duration.ofSeconds(2)); // the back-off runs out
      assertThat(snap(cluster, e.address()).eligibility()).isEqualTo(Eligibility.ELIGIBLE);
      assertThat(snap(cluster, e.address()).inSlowStart()).as("after Retry-After").isTrue();
    }
  }

  @Test
  void breaker_halfOpen_admitsOnlyPermittedProbes() {
    f.addMembers(9001, 1);
    try (Cluster cluster =
        f.builder()
            .circuitBreaker(SMALL_BREAKER)
            .outlierDetection(OutlierDetection.disabled())
            .panicThreshold(0)
            .build()) {
      for (int i = 0; i < 4; i++) {
        ClusterFixture.call(cluster, Outcome.CONNECT_FAILURE);
      }
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("127.0.0.1:9001 circuit breaker open");
      f.clock.advance(Duration.ofSeconds(11));
      Lease first = cluster.acquire();
      Lease second = cluster.acquire();
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("half-open");
      first.close(); // cancelled: its permit goes back
      Lease third = cluster.acquire();
      second.complete(Outcome.SUCCESS);
      third.complete(Outcome.SUCCESS);
      assertThat(snap(cluster, "127.0.0.1:9001").breakerState())
          .isEqualTo(CircuitBreaker.State.CLOSED);
    }
  }

  @Test
  void ejection_afterConsecutiveFailures_exponentialTime_resetsAfterQuietPeriod() {
    f.addMembers(9001, 4);
    OutlierDetection od =
        new OutlierDetection(3, Duration.ofSeconds(10), Duration.ofSeconds(40), 50);
    try (Cluster cluster = f.builder().disableCircuitBreaker().outlierDetection(od).build()) {
      String bad = "127.0.0.1:9001";
      callsUntil(
          cluster,
          bad,
          Outcome.CONNECT_FAILURE,
          () -> snap(cluster, bad).eligibility() == Eligibility.EJECTED);
      assertThat(snap(cluster, bad).ejectionRemaining()).isEqualTo(Duration.ofSeconds(10));
      assertThat(spread(cluster, 40)).doesNotContainKey(bad);

      f.clock.advance(Duration.ofSeconds(10));
      assertThat(snap(cluster, bad).eligibility()).isEqualTo(Eligibility.ELIGIBLE);

      // Fails again soon after its return: twice as long.
      callsUntil(
          cluster,
          bad,
          Outcome.TIMEOUT,
          () -> snap(cluster, bad).eligibility() == Eligibility.EJECTED);
      assertThat(snap(cluster, bad).ejectionRemaining()).isEqualTo(Duration.ofSeconds(20));
      f.clock.advance(Duration.ofSeconds(20));
      callsUntil(
          cluster,
          bad,
          Outcome.TIMEOUT,
          () -> snap(cluster, bad).eligibility() == Eligibility.EJECTED);
      assertThat(snap(cluster, bad).ejectionRemaining()).isEqualTo(Duration.ofSeconds(40));
      f.clock.advance(Duration.ofSeconds(40));
      callsUntil(
          cluster,
          bad,
          Outcome.TIMEOUT,
          () -> snap(cluster, bad).eligibility() == Eligibility.EJECTED);
      assertThat(snap(cluster, bad).ejectionRemaining())
          .as("capped")
          .isEqualTo(Duration.ofSeconds(40));

      // After a quiet period longer than the cap, the next ejection is short again.
      f.clock.advance(Duration.ofSeconds(40));
      f.clock.advance(Duration.ofSeconds(41));
      callsUntil(
          cluster,
          bad,
          Outcome.TIMEOUT,
          () -> snap(cluster, bad).eligibility() == Eligibility.EJECTED);
      assertThat(snap(cluster, bad).ejectionRemaining()).isEqualTo(Duration.ofSeconds(10));
    }
  }

  @Test
  void ejection_successResetsTheConsecutiveCount() {
    f.addMembers(9001, 1);
    OutlierDetection od =
        new OutlierDetection(3, Duration.ofSeconds(10), Duration.ofSeconds(40), 100);
    try (Cluster cluster = f.builder().disableCircuitBreaker().outlierDetection(od).build()) {
      for (int i = 0; i < 10; i++) {
        ClusterFixture.call(cluster, Outcome.CONNECT_FAILURE);
        ClusterFixture.call(cluster, Outcome.CONNECT_FAILURE);
        ClusterFixture.call(cluster, Outcome.SUCCESS);
      }
      assertThat(snap(cluster, "127.0.0.1:9001").eligibility()).isEqualTo(Eligibility.ELIGIBLE);
      ClusterFixture.call(cluster, Outcome.APPLICATION_ERROR); // the server answered: healthy
      assertThat(snap(cluster, "127.0.0.1:9001").failures()).isEqualTo(20);
    }
  }

  @Test
  void ejection_cappedAtMaxPercent() {
    f.addMembers(9001, 4);
    OutlierDetection od =
        new OutlierDetection(2, Duration.ofSeconds(10), Duration.ofSeconds(40), 50);
    try (Cluster cluster =
        f.builder().disableCircuitBreaker().outlierDetection(od).panicThreshold(0).build()) {
      for (String a : List.of("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003")) {
        Endpoint e = ClusterMembershipTest.endpoint(cluster, a);
        for (int i = 0; i < 2; i++) {
          e.tryReserve(Integer.MAX_VALUE);
          cluster.finish(e, Outcome.CONNECT_FAILURE, 1000, f.clock.read(), false);
        }
      }
      long ejected =
          cluster.snapshot().endpoints().stream()
              .filter(s -> s.eligibility() == Eligibility.EJECTED)
              .count();
      assertThat(ejected).isEqualTo(2);
      assertThat(snap(cluster, "127.0.0.1:9003").eligibility()).isEqualTo(Eligibility.ELIGIBLE);
    }
  }

  @Test
  void panic_belowThreshold_spreadsOverEjectedMembers() {
    f.addMembers(9001, 4);
    try (Cluster cluster =
        f.builder()
            .disableCircuitBreaker()
            .outlierDetection(
                new OutlierDetection(3, Duration.ofSeconds(30), Duration.ofSeconds(300), 100))
            .panicThreshold(50)
            .build()) {
      for (String a : List.of("127.0.0.1:9001", "127.0.0.1:9002")) {
        eject(cluster, a);
      }
      // 2 of 4 healthy = 50%: not below the threshold.
      assertThat(cluster.snapshot().panic()).isFalse();
      assertThat(cluster.snapshot().eligibleCount()).isEqualTo(2);
      eject(cluster, "127.0.0.1:9003");
      ClusterSnapshot s = cluster.snapshot();
      assertThat(s.panic()).isTrue();
      assertThat(s.eligibleCount()).isEqualTo(4);
      assertThat(s.endpoint("127.0.0.1:9001").orElseThrow().eligibility())
          .isEqualTo(Eligibility.EJECTED);
      assertThat(spread(cluster, 200)).hasSize(4);
    }
  }

  /**
   * Panic overrides health signals (ejection, active checks), not open breakers: those members
   * would fail the call at once. The last healthy member takes every call, and once none is left
   * calls fail fast, naming each member's reason.
   */
  @Test
  void panic_neverOverridesOpenBreakers_allOpenFailsFastNamingReasons() {
    f.addMembers(9001, 4);
    try (Cluster cluster =
        f.builder()
            .circuitBreaker(SMALL_BREAKER)
            .outlierDetection(OutlierDetection.disabled())
            .panicThreshold(50)
            .build()) {
      for (String a : List.of("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003")) {
        openBreaker(cluster, a);
      }
      ClusterSnapshot s = cluster.snapshot();
      assertThat(s.panic()).isFalse();
      assertThat(s.eligibleCount()).isEqualTo(1);
      assertThat(spread(cluster, 50).keySet()).containsExactly("127.0.0.1:9004");
      openBreaker(cluster, "127.0.0.1:9004");
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("none of its 4 members is eligible")
          .hasMessageContaining("127.0.0.1:9001 circuit breaker open")
          .hasMessageContaining("127.0.0.1:9004 circuit breaker open");
    }
  }

  private void eject(Cluster cluster, String address) {
    Endpoint e = ClusterMembershipTest.endpoint(cluster, address);
    for (int i = 0; i < 3; i++) {
      e.tryReserve(Integer.MAX_VALUE);
      cluster.finish(e, Outcome.TRANSPORT_FAILURE, 1000, f.clock.read(), false);
    }
    assertThat(e.health().ejected).isTrue();
  }

  @Test
  void panicDisabled_allUnhealthy_failsFastNamingReasons() {
    f.addMembers(9001, 2);
    try (Cluster cluster =
        f.builder()
            .circuitBreaker(SMALL_BREAKER)
            .outlierDetection(OutlierDetection.disabled())
            .panicThreshold(0)
            .build()) {
      openBreaker(cluster, "127.0.0.1:9001");
      openBreaker(cluster, "127.0.0.1:9002");
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("none of its 2 members is eligible")
          .hasMessageContaining("127.0.0.1:9001 circuit breaker open")
          .hasMessageContaining("127.0.0.1:9002 circuit breaker open");
    }
  }

  private void openBreaker(Cluster cluster, String address) {
    Endpoint e = ClusterMembershipTest.endpoint(cluster, address);
    for (int i = 0; i < 4; i++) {
      e.tryReserve(Integer.MAX_VALUE);
      cluster.finish(e, Outcome.CONNECT_FAILURE, 1000, f.clock.read(), false);
    }
    assertThat(e.health().breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
  }

  @Test
  void slowStart_newMemberRampsFromTenPercent_initialMembersDoNot_underEveryPolicy() {
    AtomicReference<Candidates> last = new AtomicReference<>();
    BalancingPolicy capturing =
        BalancingPolicy.of(
            "capture",
            (candidates, previous) -> {
              last.set(candidates);
              return BalancingPolicy.leastConnections().newPicker(candidates, previous);
            });
    f.addMembers(9001, 2);
    try (Cluster cluster = f.builder(capturing).slowStart(Duration.ofSeconds(10)).build()) {
      assertThat(last.get().weights()).containsExactly(100, 100);
      f.registry.add(instance(9003));
      assertThat(last.get().weights()).containsExactly(100, 100, 10);
      assertThat(snap(cluster, "127.0.0.1:9003").inSlowStart()).isTrue();
      f.clock.advance(Duration.ofSeconds(5));
      assertThat(last.get().weights()[2]).isEqualTo(55);
      f.clock.advance(Duration.ofSeconds(5));
      assertThat(last.get().weights()).containsExactly(100, 100, 100);
      assertThat(snap(cluster, "127.0.0.1:9003").inSlowStart()).isFalse();
    }
  }

  @Test
  void slowStart_restartsWhenEjectedMemberReturns() {
    AtomicReference<Candidates> last = new AtomicReference<>();
    BalancingPolicy capturing =
        BalancingPolicy.of(
            "capture",
            (candidates, previous) -> {
              last.set(candidates);
              return BalancingPolicy.roundRobin().newPicker(candidates, previous);
            });
    f.addMembers(9001, 3);
    OutlierDetection od = new OutlierDetection(1, Duration.ofSeconds(5), Duration.ofSeconds(5), 50);
    try (Cluster cluster =
        f.builder(capturing)
            .disableCircuitBreaker()
            .outlierDetection(od)
            .slowStart(Duration.ofSeconds(10), 20)
            .build()) {
      Endpoint e = ClusterMembershipTest.endpoint(cluster, "127.0.0.1:9002");
      e.tryReserve(Integer.MAX_VALUE);
      cluster.finish(e, Outcome.CONNECT_FAILURE, 1000, f.clock.read(), false);
      assertThat(last.get().size()).isEqualTo(2);
      f.clock.advance(Duration.ofSeconds(5));
      assertThat(last.get().weights()).containsExactly(100, 20, 100);
    }
  }

  @Test
  void zone_prefersLocal_spillsOverBelowThreshold() {
    for (int i = 0; i < 3; i++) {
      f.registry.add(instance(9001 + i, "zone-a"));
    }
    f.registry.add(instance(9101, "zone-b"));
    f.registry.add(instance(9102, "zone-b"));
    try (Cluster cluster =
        f.builder()
            .localZone("zone-a", 70)
            .circuitBreaker(SMALL_BREAKER)
            .outlierDetection(OutlierDetection.disabled())
            .build()) {
      assertThat(spread(cluster, 90).keySet())
          .containsExactlyInAnyOrder("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003");
      assertThat(snap(cluster, "127.0.0.1:9101").eligibility()).isEqualTo(Eligibility.OTHER_ZONE);

      openBreaker(cluster, "127.0.0.1:9001"); // 2 of 3 local healthy = 66% < 70%: spill over
      assertThat(spread(cluster, 200).keySet())
          .containsExactlyInAnyOrder(
              "127.0.0.1:9002", "127.0.0.1:9003", "127.0.0.1:9101", "127.0.0.1:9102");
    }
  }

  @Test
  void zone_retryAfterEveryLocalMemberFailed_spillsOverToTheOtherZone() {
    f.registry.add(instance(9001, "zone-a"));
    f.registry.add(instance(9002, "zone-a"));
    f.registry.add(instance(9101, "zone-b"));
    try (Cluster cluster = f.builder().localZone("zone-a", 50).build()) {
      Call ctx = cluster.newCall(CallContext.builder().idempotent(true).build());
      for (int attempt = 1; attempt <= 2; attempt++) {
        Lease lease = LeaseAndRetryTest.acquire(cluster, ctx);
        assertThat(lease.instance().zone()).isEqualTo("zone-a");
        lease.complete(Outcome.CONNECT_FAILURE);
        assertThat(LeaseAndRetryTest.retryDelayNanos(ctx, lease, attempt)).isPresent();
      }
      try (Lease third = LeaseAndRetryTest.acquire(cluster, ctx)) {
        assertThat(third.endpoint().address()).isEqualTo("127.0.0.1:9101");
      }
      // A fresh call still prefers the local zone.
      assertThat(ClusterFixture.call(cluster, Outcome.SUCCESS)).startsWith("127.0.0.1:900");
    }
  }

  @Test
  void zone_noLocalMembers_usesAll() {
    f.addMembers(9001, 2);
    try (Cluster cluster = f.builder().localZone("zone-x").build()) {
      assertThat(spread(cluster, 40)).hasSize(2);
    }
  }
}
