package dev.switchboard.lb.e2e;

import dev.switchboard.lb.ActiveHealthCheck;
import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.HealthCheck;
import dev.switchboard.lb.thrift.ThriftClients;
import dev.switchboard.lb.thrift.ThriftCluster;
import dev.switchboard.lb.thrift.ThriftTransportConfig;
import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.zookeeper.ZooKeeperRegistry;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;

/**
 * Switchboard as an application would use it: a ZooKeeper registry watch, a {@link ThriftCluster}
 * with the given policy and an active TCP health check (besides the default breaker, outlier
 * ejection and retries), and one load-balanced Echo proxy shared by every caller, {@code echo}
 * declared idempotent (and hedged, when a hedging delay is given). Thread-safe.
 */
final class SwitchboardTarget implements LoadTarget {
  private final BalancingPolicy policy;
  private final List<String> addresses;
  private final ZooKeeperRegistry registry;
  private final ThriftCluster thrift;
  private final Echo.Iface echo;
  // The client's endpoint objects by address, newest first: their counters show routing.
  private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();

  SwitchboardTarget(
      String zookeeper,
      String basePath,
      BalancingPolicy policy,
      @Nullable Duration hedge,
      List<String> addresses,
      int callers) {
    this.policy = policy;
    this.addresses = List.copyOf(addresses);
    this.registry = ZooKeeperRegistry.builder().connectString(zookeeper).basePath(basePath).build();
    this.thrift =
        ThriftCluster.create(
            Cluster.builder(E2eServer.SERVICE)
                .registry(registry)
                .policy(policy)
                .healthCheck(
                    ActiveHealthCheck.of(HealthCheck.tcpConnect())
                        .withInterval(Duration.ofSeconds(1), Duration.ofMillis(250))
                        .withThresholds(2, 2))
                .listener(
                    new ClusterListener() {
                      @Override
                      public void endpointAdded(Endpoint endpoint) {
                        endpoints.put(endpoint.address(), endpoint);
                      }
                    }),
            ThriftTransportConfig.builder()
                .connectTimeout(Duration.ofMillis(250))
                .readTimeout(Duration.ofSeconds(2))
                .pool(64, Math.max(callers, 1))
                .build());
    ThriftClients.Builder<Echo.Iface> clients =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, thrift)
            .idempotent("echo")
            .timeout(Duration.ofSeconds(2));
    if (hedge != null) {
      clients.hedge(hedge, Mode.HEDGE_PERCENT);
    }
    this.echo = clients.build();
  }

  @Override
  public Caller newCaller() {
    return new Caller() {
      @Override
      public String echo(String payload) throws Exception {
        return echo.echo(payload);
      }

      @Override
      public void close() {}
    };
  }

  /** Calls (attempts) finished on the server plus those in flight there, as the client counts. */
  @Override
  public long attemptsTo(int server) {
    Endpoint e = endpoints.get(addresses.get(server));
    return e == null ? 0 : e.calls() + e.inFlight();
  }

  /** Waits until the cluster picks from every server. */
  void awaitAll(Duration timeout) throws IOException, InterruptedException {
    for (int i = 0; i < addresses.size(); i++) {
      awaitServing(i, timeout);
    }
  }

  @Override
  public void awaitServing(int server, Duration timeout) throws IOException {
    String address = addresses.get(server);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!thrift
        .cluster()
        .snapshot()
        .endpoint(address)
        .map(EndpointSnapshot::receivesTraffic)
        .orElse(false)) {
      if (System.nanoTime() - deadline > 0) {
        throw new IOException(
            "Switchboard did not pick "
                + address
                + " within "
                + timeout
                + ": "
                + thrift.cluster().snapshot());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
    }
  }

  @Override
  public void close() {
    thrift.close();
    registry.close();
  }
}
