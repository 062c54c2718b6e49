package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.ActiveHealthCheck;
import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.HealthCheck;
import dev.switchboard.lb.samples.echo.Echo;
import dev.switchboard.lb.thrift.ThriftClients;
import dev.switchboard.lb.thrift.ThriftCluster;
import dev.switchboard.lb.thrift.ThriftTransportConfig;
import dev.switchboard.lb.zookeeper.ZooKeeperRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * The demo's client side, as a gateway would set it up: a ZooKeeper registry watch, a {@link
 * ThriftCluster} with the chosen policy, slow start and an active TCP health check (on top of the
 * default per-endpoint circuit breaker, outlier ejection and retries), and the load-balanced Echo
 * proxy. Thread-safe.
 */
final class Gateway implements AutoCloseable {
  private final ZooKeeperRegistry registry;
  private final ThriftCluster thrift;
  private final Echo.Iface echo;

  Gateway(String zookeeper, BalancingPolicy policy, Duration slowStart, ClusterListener listener) {
    this.registry =
        ZooKeeperRegistry.builder().connectString(zookeeper).basePath(Demo.BASE_PATH).build();
    this.thrift =
        ThriftCluster.create(
            Cluster.builder(Demo.SERVICE)
                .registry(registry)
                .policy(policy)
                .slowStart(slowStart)
                // Passive checks (breaker, ejection, the policy's latency) notice a dead server
                // from the calls; the active one keeps it out while it stays registered.
                .healthCheck(
                    ActiveHealthCheck.of(HealthCheck.tcpConnect())
                        .withInterval(Duration.ofSeconds(1), Duration.ofMillis(500))
                        .withThresholds(2, 2))
                .listener(listener),
            ThriftTransportConfig.builder()
                .connectTimeout(Duration.ofMillis(500))
                .readTimeout(Duration.ofSeconds(2))
                .build());
    this.echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, thrift)
            .idempotent("echo") // safe to repeat: retried on another server if a connection breaks
            .timeout(Duration.ofSeconds(2))
            .build();
  }

  /** The load-balanced Echo client. */
  Echo.Iface echo() {
    return echo;
  }

  Cluster cluster() {
    return thrift.cluster();
  }

  /**
   * Waits until every address in {@code addresses} is a member taking traffic.
   *
   * @throws IOException if they are not, within {@code timeout}
   */
  void awaitMembers(Set<String> addresses, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      Set<String> seen = new HashSet<>();
      for (EndpointSnapshot e : thrift.cluster().snapshot().endpoints()) {
        if (e.receivesTraffic()) {
          seen.add(e.address());
        }
      }
      if (seen.containsAll(addresses)) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException(
            "within " + timeout + " the client saw " + seen + " in ZooKeeper, not " + addresses);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  @Override
  public void close() {
    thrift.close();
    registry.close();
  }
}
