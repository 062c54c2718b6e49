package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.RetryPolicy;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import javax.net.ssl.SSLContext;
import org.apache.thrift.TException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Mutual TLS, and connections that never leak through faults. */
class TlsAndLeakTest {

  private static ThriftCluster tlsCluster(StaticRegistry registry, SSLContext client) {
    return ThriftCluster.create(
        Cluster.builder("echo")
            .registry(registry)
            .policy(BalancingPolicy.roundRobin())
            .retryPolicy(RetryPolicy.none())
            .panicThreshold(0),
        ThriftTransportConfig.builder().tls(client, true).warmUp(0, Duration.ZERO).build());
  }

  @Test
  void mutualTls_clientWithoutCertificateRejected_withCertificateServed(@TempDir Path dir)
      throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    StaticRegistry registry = new StaticRegistry();
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .registry(registry)
            .tls(certs.server(), true)
            .drain(Duration.ZERO, Duration.ofSeconds(1))
            .start()) {
      assertThat(server.instance().metadata()).containsEntry("tls", "true");
      try (ThriftCluster anonymous = tlsCluster(registry, certs.clientWithoutCertificate())) {
        Echo.Iface echo = ThriftClients.create(Echo.Iface.class, Echo.Client::new, anonymous);
        assertThatThrownBy(() -> echo.echo("who am I?")).isInstanceOf(TException.class);
      }
      assertThat(handler.calls()).as("rejected before any call was processed").isZero();
      try (ThriftCluster trusted = tlsCluster(registry, certs.client())) {
        Echo.Iface echo = ThriftClients.create(Echo.Iface.class, Echo.Client::new, trusted);
        for (int i = 0; i < 20; i++) {
          assertThat(echo.echo("secret " + i)).isEqualTo("secret " + i);
        }
        assertThat(trusted.poolStats().created()).as("connections reused").isLessThanOrEqualTo(2);
      }
    }
  }

  @Test
  void faultsInjected_openConnectionsStayWithinPoolBound_andAllCloseWithTheCluster()
      throws Exception {
    long socketsBefore = openSockets();
    try (ThriftFixture f = new ThriftFixture()) {
      List<ThriftServer> servers = List.of(f.start(), f.start(), f.start());
      ThriftCluster cluster = f.cluster(BalancingPolicy.leastConnections());
      Echo.Iface echo =
          ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
              .idempotent("echo", "sleep")
              .timeout(Duration.ofMillis(300))
              .build();
      LoadDriver load =
          new LoadDriver(
              8,
              () ->
                  ThreadLocalRandom.current().nextInt(50) == 0
                      ? echo.sleep(1000, "too slow") // times out: connection discarded
                      : echo.echo("ok"));
      for (int round = 0; round < 3; round++) {
        ThriftServer victim = servers.get(round);
        int port = victim.port();
        long mark = load.total();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= mark + 2000);
        victim.kill();
        long mark2 = load.total();
        await().atMost(Duration.ofSeconds(30)).until(() -> load.total() >= mark2 + 2000);
        f.start("", port);
      }
      load.close();
      System.out.println(load.summary("faults: timeouts + 3 kills/restarts, 8 callers"));
      for (Throwable t : load.failures) {
        if (!(t instanceof ConnectFailedException)) continue;
        break;
      }
      PoolStats stats = cluster.poolStats();
      System.out.println(
          "[leak] pool after faults: " + stats + ", sockets before " + socketsBefore);
      int bound = stats.pools() * cluster.transportConfig().maxConnectionsPerEndpoint();
      assertThat(stats.open()).isLessThanOrEqualTo(bound);
      assertThat(stats.open()).isLessThanOrEqualTo(8 + stats.pools() * 16);
      cluster.close();
      assertThat(cluster.poolStats().open()).isZero();
    }
    // Servers stopped and clients closed: every socket of this test is gone.
    await().atMost(Duration.ofSeconds(30)).until(() -> openSockets() <= socketsBefore);
  }

  /**
   * TCP sockets this JVM holds open (Linux: socket inodes under /proc/self/fd that /proc/net/tcp
   * and tcp6 list). Unix-domain sockets the JDK keeps for itself are not counted.
   */
  private static long openSockets() throws IOException {
    File fds = new File("/proc/self/fd");
    if (!fds.isDirectory()) {
      return 0;
    }
    Set<String> tcp = new HashSet<>();
    for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
      for (String line : Files.readAllLines(Path.of(table))) {
        String[] cols = line.trim().split("\\s+");
        if (cols.length > 9 && !cols[0].equals("sl")) {
          tcp.add(cols[9]);
        }
      }
    }
    long n = 0;
    for (File fd : fds.listFiles()) {
      try {
        String link = Files.readSymbolicLink(fd.toPath()).toString();
        if (link.startsWith("socket:[") && tcp.contains(link.substring(8, link.length() - 1))) {
          n++;
        }
      } catch (IOException gone) {
        // closed while listing
      }
    }
    return n;
  }
}
