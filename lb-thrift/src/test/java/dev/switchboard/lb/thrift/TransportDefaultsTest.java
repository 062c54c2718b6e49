package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.RetryPolicy;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.junit.jupiter.api.Test;

/**
 * The transport defaults against real servers on 127.0.0.1: a framing mismatch says so, and the
 * idle pool is sized for the connection limit.
 */
class TransportDefaultsTest {

  private static ThriftCluster cluster(
      StaticRegistry registry, ThriftTransportConfig.Builder config) {
    return ThriftCluster.create(
        Cluster.builder("echo")
            .registry(registry)
            .policy(BalancingPolicy.roundRobin())
            .retryPolicy(RetryPolicy.none())
            .updateDebounce(Duration.ZERO),
        config.warmUp(0, Duration.ZERO).readTimeout(Duration.ofSeconds(5)).build());
  }

  private static StaticRegistry registryOf(int port) {
    return StaticRegistry.of(ServiceInstance.builder("echo", "127.0.0.1", port).build());
  }

  private static void assertFirstCallSaysFramedVsUnframed(
      StaticRegistry registry, boolean clientFramed) {
    try (ThriftCluster cluster =
        cluster(registry, ThriftTransportConfig.builder().framed(clientFramed))) {
      Echo.Iface echo = ThriftClients.create(Echo.Iface.class, Echo.Client::new, cluster);
      assertThatThrownBy(() -> echo.echo("hello"))
          .isInstanceOf(TException.class)
          .hasMessageContaining("framed vs unframed")
          .hasMessageContaining(clientFramed ? "this client is framed" : "this client is unframed");
    }
  }

  @Test
  void framedClient_stockThreadPoolServer_firstCallSaysFramedVsUnframed() throws Exception {
    try (EchoServer server = EchoServer.threadPool(new TBinaryProtocol.Factory())) {
      assertFirstCallSaysFramedVsUnframed(registryOf(server.port()), true);
    }
  }

  @Test
  void framedClient_unframedThriftServer_firstCallSaysFramedVsUnframed() throws Exception {
    assertMismatchAgainstThriftServer(false, true);
  }

  @Test
  void unframedClient_stockSelectorServer_firstCallSaysFramedVsUnframed() throws Exception {
    try (EchoServer server = EchoServer.framedSelector(new TBinaryProtocol.Factory())) {
      assertFirstCallSaysFramedVsUnframed(registryOf(server.port()), false);
    }
  }

  @Test
  void unframedClient_framedThriftServer_firstCallSaysFramedVsUnframed() throws Exception {
    assertMismatchAgainstThriftServer(true, false);
  }

  private static void assertMismatchAgainstThriftServer(boolean serverFramed, boolean clientFramed)
      throws Exception {
    StaticRegistry registry = new StaticRegistry();
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .registry(registry)
            .framed(serverFramed)
            .drain(Duration.ZERO, Duration.ofSeconds(1))
            .start()) {
      assertFirstCallSaysFramedVsUnframed(registry, clientFramed);
    }
  }

  @Test
  void defaults_keepAsManyIdleConnectionsAsTheLimit() {
    ThriftTransportConfig defaults = ThriftTransportConfig.defaults();
    assertThat(defaults.maxIdlePerEndpoint()).isEqualTo(defaults.maxConnectionsPerEndpoint());
  }

  @Test
  void burstsOf32ConcurrentCalls_reuseTheirConnections() throws Exception {
    int callers = 32;
    int bursts = 10;
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try (EchoServer server = EchoServer.framedSelector(new TBinaryProtocol.Factory());
        ThriftCluster cluster =
            cluster(registryOf(server.port()), ThriftTransportConfig.builder())) {
      Echo.Iface echo = ThriftClients.create(Echo.Iface.class, Echo.Client::new, cluster);
      for (int b = 0; b < bursts; b++) {
        List<Future<String>> calls = new ArrayList<>();
        for (int i = 0; i < callers; i++) {
          String m = "b" + b + "c" + i;
          calls.add(pool.submit(() -> echo.sleep(20, m))); // overlapping: one connection each
        }
        for (Future<String> call : calls) {
          assertThat(call.get()).startsWith("b" + b);
        }
      }
      long created = cluster.poolStats().created();
      System.out.printf(
          "%d bursts of %d calls: %d connections created%n", bursts, callers, created);
      assertThat(created).as("connections created").isLessThanOrEqualTo(callers);
    } finally {
      pool.shutdownNow();
    }
  }
}
