package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Load-balanced calls over real Thrift servers on 127.0.0.1. */
class ThriftClientsTest {
  private final ThriftFixture f = new ThriftFixture();

  @AfterEach
  void tearDown() throws Exception {
    f.close();
  }

  @Test
  void roundRobin_16Callers_spreadEvenlyOverThreeServers() throws Exception {
    List<ThriftServer> servers = List.of(f.start(), f.start(), f.start());
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = ThriftFixture.client(cluster, "whoami");
    LoadDriver load = new LoadDriver(16, echo::whoami);
    await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= 6000);
    load.close();
    System.out.println(load.summary("round robin, 3 servers, 16 callers"));
    assertThat(load.failed.get()).isZero();
    long total = load.total();
    for (ThriftServer s : servers) {
      long calls = f.handler(s).calls();
      assertThat(calls).isEqualTo(load.callsTo(s.instance().address()));
      assertThat((double) calls / total).as("share of %s", s.port()).isBetween(0.28, 0.39);
    }
    assertThat(cluster.poolStats().open()).isLessThanOrEqualTo(3 * 16);
  }

  @Test
  void declaredException_isTheServersAnswer_notRetried_notAFailure() throws Exception {
    f.start();
    f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = ThriftFixture.client(cluster, "fail");
    long before = totalCalls();
    assertThatThrownBy(() -> echo.fail("no such order"))
        .isInstanceOf(EchoFailure.class)
        .hasFieldOrPropertyWithValue("reason", "no such order");
    assertThat(totalCalls() - before).as("sent once, not retried").isEqualTo(1);
    for (EndpointSnapshot s : cluster.cluster().snapshot().endpoints()) {
      assertThat(s.failures()).isZero();
      assertThat(s.inFlight()).isZero();
    }
    // The reply was read to its end, so the connection went back to the pool and is reused.
    assertThat(cluster.poolStats().idle()).as("connection kept after the answer").isEqualTo(1);
  }

  @Test
  void oneway_isDelivered() throws Exception {
    ThriftServer server = f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = ThriftFixture.client(cluster);
    for (int i = 0; i < 10; i++) {
      echo.fire("event " + i);
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> f.handler(server).calls() == 10);
    assertThat(echo.echo("after oneway")).isEqualTo("after oneway");
  }

  @Test
  void serverStoppedAbruptlyMidLoad_noFailedIdempotentCall_endpointTakenOutOfRotation()
      throws Exception {
    List<ThriftServer> servers = List.of(f.start(), f.start(), f.start());
    ThriftCluster cluster = f.cluster(BalancingPolicy.leastConnections());
    Echo.Iface echo = ThriftFixture.client(cluster, "whoami");
    LoadDriver load = new LoadDriver(8, echo::whoami);
    await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= 2000);
    ThriftServer victim = servers.get(0);
    String address = victim.instance().address();
    victim.kill(); // no drain, no deregistration: the registry still lists it
    long killedAt = load.total();
    // Taken out of rotation by whichever trips first: outlier ejection or its circuit breaker.
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                eligibility(cluster, address) == Eligibility.EJECTED
                    || eligibility(cluster, address) == Eligibility.CIRCUIT_OPEN);
    await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= killedAt + 3000);
    load.close();
    System.out.println(load.summary("kill 1 of 3, least connections, 8 callers"));
    assertThat(load.failures).isEmpty();
    assertThat(load.failed.get()).isZero();
  }

  @Test
  void slowServer_getsASmallShare_underLeastConnectionsAndPeakEwma() throws Exception {
    for (BalancingPolicy policy :
        List.of(BalancingPolicy.leastConnections(), BalancingPolicy.peakEwma())) {
      ThriftFixture fx = new ThriftFixture();
      try {
        ThriftServer slow = fx.start();
        fx.start();
        fx.start();
        fx.handler(slow).delayEcho(50);
        ThriftCluster cluster = fx.cluster(policy);
        Echo.Iface echo = ThriftFixture.client(cluster);
        LoadDriver load = new LoadDriver(8, () -> echo.echo("x").isEmpty() ? "" : "ok");
        await().atMost(Duration.ofSeconds(60)).until(() -> load.total() >= 4000);
        load.close();
        double share = (double) fx.handler(slow).calls() / load.total();
        System.out.printf(
            "[slow server, %s] share %.2f%% of %d calls%n",
            policy.name(), share * 100, load.total());
        assertThat(load.failed.get()).isZero();
        assertThat(share).as("slow server's share under %s", policy.name()).isLessThan(0.05);
      } finally {
        fx.close();
      }
    }
  }

  @Test
  void rollingRestartThroughDrain_noFailedCall_evenForNonIdempotentMethods() throws Exception {
    List<ThriftServer> servers = new ArrayList<>(List.of(f.start(), f.start(), f.start()));
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = ThriftFixture.client(cluster); // nothing idempotent: only drain saves calls
    LoadDriver load = new LoadDriver(8, () -> echo.echo("x"));
    await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= 1000);
    for (int i = 0; i < 3; i++) {
      ThriftServer old = servers.remove(0);
      old.close(); // drain, deregister, wait for in-flight, stop
      servers.add(f.start());
      long mark = load.total();
      await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= mark + 1000);
    }
    load.close();
    System.out.println(load.summary("rolling restart of 3 through drain, 8 callers"));
    assertThat(load.failures).isEmpty();
    for (ThriftServer s : servers) {
      assertThat(f.handler(s).calls()).as("new server %s took traffic", s.port()).isPositive();
    }
  }

  @Test
  void zoneLoss_spillsOverWithoutFailures_andReturnsWhenTheZoneIsBack() throws Exception {
    ThriftServer a1 = f.start("zone-a", 0);
    ThriftServer a2 = f.start("zone-a", 0);
    ThriftServer b1 = f.start("zone-b", 0);
    ThriftServer b2 = f.start("zone-b", 0);
    ThriftCluster cluster =
        f.cluster(BalancingPolicy.roundRobin(), b -> b.localZone("zone-a").panicThreshold(0));
    Echo.Iface echo = ThriftFixture.client(cluster, "whoami");
    LoadDriver load = new LoadDriver(8, echo::whoami);
    await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= 1000);
    assertThat(f.handler(b1).calls() + f.handler(b2).calls()).as("zone b idle").isZero();

    int portA1 = a1.port();
    int portA2 = a2.port();
    a1.kill();
    a2.kill();
    long mark = load.total();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> f.handler(b1).calls() + f.handler(b2).calls() >= 1000);
    assertThat(load.total()).isGreaterThan(mark);

    ThriftServer a1Back = f.start("zone-a", portA1);
    ThriftServer a2Back = f.start("zone-a", portA2);
    await()
        .atMost(Duration.ofSeconds(30))
        .until(
            () ->
                eligibility(cluster, a1Back.instance().address()) == Eligibility.ELIGIBLE
                    && eligibility(cluster, a2Back.instance().address()) == Eligibility.ELIGIBLE);
    long bMark = f.handler(b1).calls() + f.handler(b2).calls();
    long aMark = f.handler(a1Back).calls() + f.handler(a2Back).calls();
    await()
        .atMost(Duration.ofSeconds(30))
        .until(() -> f.handler(a1Back).calls() + f.handler(a2Back).calls() >= aMark + 1000);
    load.close();
    System.out.println(load.summary("zone a lost and back, 8 callers"));
    assertThat(load.failures).isEmpty();
    assertThat(f.handler(b1).calls() + f.handler(b2).calls() - bMark)
        .as("zone b idle again once zone a is back")
        .isLessThan(50);
  }

  private long totalCalls() {
    return f.servers.values().stream().mapToLong(EchoHandler::calls).sum();
  }

  private static Eligibility eligibility(ThriftCluster cluster, String address) {
    return cluster
        .cluster()
        .snapshot()
        .endpoint(address)
        .map(EndpointSnapshot::eligibility)
        .orElseThrow();
  }
}
