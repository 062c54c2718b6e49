package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Hedged idempotent calls over real Thrift servers on 127.0.0.1. */
class HedgingTest {
  private final ThriftFixture f = new ThriftFixture();

  @AfterEach
  void tearDown() throws Exception {
    f.close();
  }

  private static Echo.Iface hedged(ThriftCluster cluster, Duration delay, int percent) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .idempotent("echo")
        .timeout(Duration.ofSeconds(10))
        .hedge(delay, percent)
        .build();
  }

  @Test
  void callStuckOnASlowServer_isAnsweredByTheHedge_andTheSlowServerIsNotCountedAsFailed()
      throws Exception {
    ThriftServer slow = f.start();
    f.start();
    f.handler(slow).delayEcho(3_000);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = hedged(cluster, Duration.ofMillis(20), 100);

    long longest = 0;
    for (int i = 0; i < 10; i++) {
      long start = System.nanoTime();
      assertThat(echo.echo("m" + i)).isEqualTo("m" + i);
      longest = Math.max(longest, System.nanoTime() - start);
    }

    // Round robin sends about every other first attempt to the slow server (hedges pick too, so
    // not exactly): no call waited for its 3 s, so each of those was answered by a hedge on the
    // other server. (The slow server's own count cannot be matched against the hedges: calls
    // queued behind its sleeping workers are not counted yet.)
    assertThat(f.handler(slow).calls()).isPositive();
    assertThat(Duration.ofNanos(longest)).isLessThan(Duration.ofSeconds(2));
    assertThat(cluster.hedgesWon()).isPositive();
    assertThat(cluster.hedgesSent()).isGreaterThanOrEqualTo(cluster.hedgesWon());
    EndpointSnapshot slowEndpoint =
        cluster.cluster().snapshot().endpoints().stream()
            .filter(e -> e.address().equals(slow.instance().address()))
            .findFirst()
            .orElseThrow();
    assertThat(slowEndpoint.failures()).as("slow, not failed").isZero();
  }

  @Test
  void declaredExceptions_areAnswers_theFirstOneWins_whicheverSideGivesIt() throws Exception {
    f.handler(f.start()).delayFail(50);
    f.handler(f.start()).delayFail(3_000);
    // Least connections breaks the tie between two idle servers at random, so each call goes
    // first to one server or the other (round robin's per-thread cursors could line every call up
    // on the same server when a hedge thread shares the caller's cursor). Each call waits until the
    // previous call's abandoned attempt has released its endpoint, so both are idle.
    ThriftCluster cluster = f.cluster(BalancingPolicy.leastConnections());
    Echo.Iface echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .idempotent("fail")
            .timeout(Duration.ofSeconds(10))
            .hedge(Duration.ofMillis(5), 100)
            .build();

    // Either way the 50 ms server's EchoFailure is the first answer, whether it came from the
    // call or its hedge. Call until both sides have given it (each call goes first to the slow
    // server with probability 1/2: 30 calls miss one side with probability 2^-29).
    int calls = 0;
    while (calls < 30 && (cluster.hedgesWon() == 0 || cluster.hedgesWon() == calls)) {
      await().atMost(Duration.ofSeconds(10)).until(() -> inFlight(cluster) == 0);
      long start = System.nanoTime();
      assertThatThrownBy(() -> echo.fail("no"))
          .isInstanceOf(EchoFailure.class)
          .hasFieldOrPropertyWithValue("reason", "no");
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
      calls++;
    }
    assertThat(cluster.hedgesWon()).as("hedges that answered first").isPositive();
    assertThat(cluster.hedgesWon())
        .as("calls answered first by their own attempt")
        .isLessThan(calls);
  }

  @Test
  void nonIdempotentCalls_areNeverHedged() throws Exception {
    ThriftServer slow = f.start();
    f.start();
    f.handler(slow).delayEcho(200);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .idempotent("whoami")
            .hedge(Duration.ofMillis(5), 100)
            .build();

    for (int i = 0; i < 4; i++) {
      assertThat(echo.echo("x")).isEqualTo("x");
    }

    assertThat(f.handler(slow).calls()).isEqualTo(2);
    assertThat(cluster.hedgesSent()).isZero();
  }

  @Test
  void hedgesStayWithinTheBudget_whenEveryServerIsSlow() throws Exception {
    f.handler(f.start()).delayEcho(20);
    f.handler(f.start()).delayEcho(20);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = hedged(cluster, Duration.ofMillis(1), 1);

    for (int i = 0; i < 60; i++) {
      assertThat(echo.echo("x")).isEqualTo("x");
    }

    // The burst (10) plus 1% of 60 calls: never one hedge per call.
    assertThat(cluster.hedgesSent()).isBetween(10L, 11L);
  }

  @Test
  void singleServer_noHedgeIsSent_theCallStillAnswers() throws Exception {
    f.handler(f.start()).delayEcho(50);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = hedged(cluster, Duration.ofMillis(5), 100);

    assertThat(echo.echo("only")).isEqualTo("only");
    assertThat(cluster.hedgesSent()).isZero();
  }

  @Test
  void badHedgeSettings_areRejected() {
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    var builder = ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster);
    assertThatThrownBy(() -> builder.hedge(Duration.ZERO, 5))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hedge delay must be positive");
    assertThatThrownBy(() -> builder.hedge(Duration.ofMillis(5), 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxExtraPercent");
  }

  private static int inFlight(ThriftCluster cluster) {
    int n = 0;
    for (EndpointSnapshot e : cluster.cluster().snapshot().endpoints()) {
      n += e.inFlight();
    }
    return n;
  }
}
