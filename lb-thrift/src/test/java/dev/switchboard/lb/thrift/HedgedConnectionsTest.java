package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.thrift.test.Echo;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What hedging costs in connections and log lines, over real Thrift servers on 127.0.0.1. */
class HedgedConnectionsTest {
  private static final int CALLS = 60;

  private final ThriftFixture f = new ThriftFixture();

  private final List<ThriftServer> servers = new ArrayList<>();

  @AfterEach
  void tearDown() {
    f.close();
    servers.forEach(ThriftServer::kill);
  }

  @Test
  void wonHedges_keepTheSlowAttemptsConnections_andLogNoWarnings() throws Exception {
    ThriftServer slow = f.start();
    f.start();
    f.handler(slow).delayEcho(100);
    runHedged(f.cluster(BalancingPolicy.roundRobin()));
  }

  @Test
  void wonHedgesOverTls_keepTheSlowAttemptsConnections_andLogNoWarnings(@TempDir Path dir)
      throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    EchoHandler slow = new EchoHandler();
    slow.delayEcho(100);
    for (EchoHandler handler : List.of(slow, new EchoHandler())) {
      servers.add(
          ThriftServer.builder(handler, new Echo.Processor<>(handler))
              .host("127.0.0.1")
              .registry(f.registry)
              .tls(certs.server(), true)
              .drain(Duration.ZERO, Duration.ofSeconds(1))
              .start());
    }
    try (ThriftCluster cluster =
        ThriftCluster.create(
            Cluster.builder("echo")
                .registry(f.registry)
                .policy(BalancingPolicy.roundRobin())
                .updateDebounce(Duration.ZERO),
            ThriftTransportConfig.builder()
                .tls(certs.client(), true)
                .readTimeout(Duration.ofSeconds(5))
                .warmUp(4, Duration.ZERO)
                .build())) {
      // TLS handshakes are warmed up first: one still running when its hedge answers is cut short
      // (it has no connection to keep), which this test of kept connections is not about.
      await("pools warmed up")
          .atMost(Duration.ofSeconds(30))
          .until(() -> cluster.poolStats().idle() >= 8);
      runHedged(cluster);
    }
  }

  private static void runHedged(ThriftCluster cluster) throws Exception {
    Echo.Iface echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .idempotent("echo")
            .timeout(Duration.ofSeconds(10))
            .hedge(Duration.ofMillis(20), 100)
            .build();

    PoolStats stats;
    try (LogCapture log = new LogCapture()) {
      for (int i = 0; i < CALLS; i++) {
        assertThat(echo.echo("m" + i)).isEqualTo("m" + i);
      }
      // Every abandoned attempt's connection is back in its pool or closed.
      await("abandoned replies drained")
          .atMost(Duration.ofSeconds(10))
          .until(() -> cluster.poolStats().open() == cluster.poolStats().idle());
      stats = cluster.poolStats();
      System.out.printf(
          "hedged run: %d calls, %d hedges won, %d connections created, %d kept, %d closed%n",
          CALLS,
          cluster.hedgesWon(),
          stats.created(),
          stats.abandonedKept(),
          stats.abandonedClosed());
      assertThat(log.lines("WARN")).as("warnings logged").isEmpty();
    }

    // Round robin sends every other call first to the slow server; each is answered by a hedge.
    assertThat(cluster.hedgesWon()).as("hedges won").isGreaterThanOrEqualTo(CALLS / 3);
    // One connection per won hedge before; now about as many as replies the slow server owes at
    // once (100 ms of ~20 ms calls), plus the fast server's one.
    assertThat(stats.created())
        .as("connections created for %d won hedges", cluster.hedgesWon())
        .isLessThanOrEqualTo(12);
    assertThat(stats.abandonedKept())
        .as("abandoned attempts' connections kept")
        .isGreaterThanOrEqualTo(cluster.hedgesWon() - stats.abandonedClosed());
  }
}
