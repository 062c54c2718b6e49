package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Active checks against real sockets on 127.0.0.1. */
class ActiveHealthCheckTest {

  /** A listening socket that accepts and closes connections on a daemon thread. */
  private static final class Listener implements AutoCloseable {
    final ServerSocket socket;

    Listener(int port) throws IOException {
      socket = new ServerSocket(port, 50, InetAddress.getLoopbackAddress());
      Thread t =
          new Thread(
              () -> {
                while (!socket.isClosed()) {
                  try {
                    socket.accept().close(); // accepted: that is all a TCP check needs
                  } catch (IOException closed) {
                    return;
                  }
                }
              },
              "listener-" + socket.getLocalPort());
      t.setDaemon(true);
      t.start();
    }

    int port() {
      return socket.getLocalPort();
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  private static ServiceInstance instance(int port) {
    return ServiceInstance.builder("echo", "127.0.0.1", port).build();
  }

  @Test
  void tcpConnect_listeningPortHealthy_closedPortNot() throws IOException {
    try (Listener l = new Listener(0)) {
      assertThat(HealthCheck.tcpConnect().isHealthy(instance(l.port()), Duration.ofSeconds(1)))
          .isTrue();
    }
    // A port held by a bound socket that does not listen: refused, and no other process can take
    // it meanwhile (a just-closed listener's port can be reused by a parallel build).
    try (java.net.Socket held = new java.net.Socket()) {
      held.bind(new java.net.InetSocketAddress("127.0.0.1", 0));
      assertThat(
              HealthCheck.tcpConnect()
                  .isHealthy(instance(held.getLocalPort()), Duration.ofSeconds(1)))
          .isFalse();
    }
  }

  @Test
  void cluster_memberFailingCheck_getsNoTraffic_returnsWhenItPassesAgain() throws IOException {
    Listener a = new Listener(0);
    Listener b = new Listener(0);
    int portB = b.port();
    StaticRegistry registry = StaticRegistry.of(instance(a.port()), instance(portB));
    ActiveHealthCheck check =
        ActiveHealthCheck.of(HealthCheck.tcpConnect())
            .withInterval(Duration.ofMillis(50), Duration.ofMillis(50))
            .withThresholds(2, 2);
    try (Cluster cluster =
        Cluster.builder("echo").registry(registry).healthCheck(check).panicThreshold(0).build()) {
      String addressB = "127.0.0.1:" + portB;
      b.close();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> eligibility(cluster, addressB) == Eligibility.FAILING_HEALTH_CHECK);
      assertThat(spread(cluster, 50)).containsExactly("127.0.0.1:" + a.port());

      b = new Listener(portB);
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> eligibility(cluster, addressB) == Eligibility.ELIGIBLE);
      assertThat(spread(cluster, 50)).contains(addressB);
    } finally {
      a.close();
      b.close();
    }
  }

  private static Eligibility eligibility(Cluster cluster, String address) {
    return cluster.snapshot().endpoint(address).map(EndpointSnapshot::eligibility).orElseThrow();
  }

  private static Set<String> spread(Cluster cluster, int calls) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < calls; i++) {
      try (Lease lease = cluster.acquire()) {
        seen.add(lease.endpoint().address());
        lease.complete(Outcome.SUCCESS);
      }
    }
    return seen;
  }

  @Test
  void config_rejectsBadValuesNamingThem() {
    HealthCheck c = HealthCheck.tcpConnect();
    assertThatThrownBy(() -> new ActiveHealthCheck(c, Duration.ZERO, Duration.ofSeconds(1), 1, 1))
        .hasMessageContaining("interval");
    assertThatThrownBy(
            () -> new ActiveHealthCheck(c, Duration.ofSeconds(1), Duration.ofSeconds(2), 1, 1))
        .hasMessageContaining("timeout");
    assertThatThrownBy(() -> ActiveHealthCheck.of(c).withThresholds(0, 1))
        .hasMessageContaining("healthyThreshold");
  }

  @Test
  void checkThatThrows_countsAsFailure() {
    StaticRegistry registry = StaticRegistry.of(instance(1), instance(2));
    HealthCheck throwing =
        (instance, timeout) -> {
          if (instance.port() == 1) {
            throw new IllegalStateException("probe bug");
          }
          return true;
        };
    ActiveHealthCheck check =
        ActiveHealthCheck.of(throwing)
            .withInterval(Duration.ofMillis(20), Duration.ofMillis(20))
            .withThresholds(1, 1);
    try (Cluster cluster =
        Cluster.builder("echo").registry(registry).healthCheck(check).panicThreshold(0).build()) {
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> eligibility(cluster, "127.0.0.1:1") == Eligibility.FAILING_HEALTH_CHECK);
      assertThat(eligibility(cluster, "127.0.0.1:2")).isEqualTo(Eligibility.ELIGIBLE);
    }
  }
}
