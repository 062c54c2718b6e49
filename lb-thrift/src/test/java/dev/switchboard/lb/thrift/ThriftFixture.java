package dev.switchboard.lb.thrift;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.OutlierDetection;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.apache.thrift.transport.TTransportException;

/** Echo servers on 127.0.0.1 registered in a static registry, and clusters over them. */
final class ThriftFixture implements AutoCloseable {
  final StaticRegistry registry = new StaticRegistry();
  final Map<ThriftServer, EchoHandler> servers = new LinkedHashMap<>();
  private final List<ThriftCluster> clusters = new ArrayList<>();

  /** Starts an echo server in {@code zone} on {@code port} (0: any), registered. */
  ThriftServer start(String zone, int port) throws TTransportException {
    return start(zone, port, Map.of());
  }

  /** Starts an echo server on any port, registered with {@code metadata}. */
  ThriftServer start(Map<String, String> metadata) throws TTransportException {
    return start("", 0, metadata);
  }

  private ThriftServer start(String zone, int port, Map<String, String> metadata)
      throws TTransportException {
    EchoHandler handler = new EchoHandler();
    ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .registry(registry)
            .port(port)
            .zone(zone)
            .metadata(metadata)
            .drain(Duration.ofMillis(100), Duration.ofSeconds(5))
            .start();
    handler.identity(server.instance().address());
    servers.put(server, handler);
    return server;
  }

  ThriftServer start() throws TTransportException {
    return start("", 0);
  }

  EchoHandler handler(ThriftServer server) {
    return servers.get(server);
  }

  /** A cluster over the registry with fast ejection, customised by {@code customizer}. */
  ThriftCluster cluster(BalancingPolicy policy, UnaryOperator<Cluster.Builder> customizer) {
    return cluster(
        policy,
        customizer,
        ThriftTransportConfig.builder()
            .connectTimeout(Duration.ofMillis(500))
            .readTimeout(Duration.ofSeconds(5))
            .warmUp(0, Duration.ZERO)
            .build());
  }

  /**
   * As {@link #cluster(BalancingPolicy, UnaryOperator)}, with pools configured by {@code
   * transport}.
   */
  ThriftCluster cluster(
      BalancingPolicy policy,
      UnaryOperator<Cluster.Builder> customizer,
      ThriftTransportConfig transport) {
    Cluster.Builder b =
        Cluster.builder("echo")
            .registry(registry)
            .policy(policy)
            .updateDebounce(Duration.ZERO)
            .outlierDetection(
                new OutlierDetection(3, Duration.ofMillis(500), Duration.ofSeconds(5), 50));
    ThriftCluster cluster = ThriftCluster.create(customizer.apply(b), transport);
    clusters.add(cluster);
    return cluster;
  }

  ThriftCluster cluster(BalancingPolicy policy) {
    return cluster(policy, b -> b);
  }

  /**
   * A proxy with a 5 s deadline and no hedging (the tests using it count each call once per server;
   * HedgingTest and NetworkFaultTest cover the default hedging of idempotent methods).
   */
  static Echo.Iface client(ThriftCluster cluster, String... idempotent) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .idempotent(idempotent)
        .timeout(Duration.ofSeconds(5))
        .noHedging()
        .build();
  }

  @Override
  public void close() {
    for (ThriftCluster c : clusters) {
      c.close();
    }
    for (ThriftServer s : servers.keySet()) {
      s.kill();
    }
  }
}
