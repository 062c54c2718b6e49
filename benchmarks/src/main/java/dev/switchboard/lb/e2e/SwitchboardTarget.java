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
 * ejection and retries), or at the library's defaults, and one load-balanced Echo proxy shared by
 * every caller, {@code echo} declared idempotent (and hedged, when a hedging delay is given).
 * Thread-safe.
 */
final class SwitchboardTarget implements LoadTarget {
  private final List<String> addresses;
  private final ZooKeeperRegistry registry;
  private final ThriftCluster thrift;
  private final Echo.Iface echo;
  // The client's endpoint objects by address, newest first: their counters show routing.
  private final Map<String, Endpoint> endpoints = new ConcurrentHashMap<>();

  /**
   * Switchboard with {@code policy}, an active TCP health check every second, a 250 ms connect
   * timeout, a 2 s deadline, and hedging after {@code hedge} if given.
   */
  SwitchboardTarget(
      String zookeeper,
      String basePath,
      BalancingPolicy policy,
      @Nullable Duration hedge,
      List<String> addresses,
      int callers) {
    this(zookeeper, basePath, addresses, policy, hedge, callers);
  }

  /**
   * Switchboard at the library's defaults: only the registry and {@code echo} declared idempotent
   * (so hedged adaptively); the default policy, breaker, ejection, retries, transport and deadline.
   */
  static SwitchboardTarget atDefaults(String zookeeper, String basePath, List<String> addresses) {
    return new SwitchboardTarget(zookeeper, basePath, addresses, null, null, 0);
  }

  private SwitchboardTarget(
      String zookeeper,
      String basePath,
      List<String> addresses,
      @Nullable BalancingPolicy policy,
      @Nullable Duration hedge,
      int callers) {
    this.addresses = List.copyOf(addresses);
    this.registry = ZooKeeperRegistry.builder().connectString(zookeeper).basePath(basePath).build();
    Cluster.Builder cluster =
        Cluster.builder(E2eServer.SERVICE)
            .registry(registry)
            .listener(
                new ClusterListener() {
                  @Override
                  public void endpointAdded(Endpoint endpoint) {
                    endpoints.put(endpoint.address(), endpoint);
                  }
                });
    if (policy == null) {
      this.thrift = ThriftCluster.create(cluster, ThriftTransportConfig.defaults());
      this.echo =
          ThriftClients.builder(Echo.Iface.class, Echo.Client::new, thrift)
              .idempotent("echo")
              .build();
      return;
    }
    this.thrift =
        ThriftCluster.create(
            cluster
                .policy(policy)
                .healthCheck(
                    ActiveHealthCheck.of(HealthCheck.tcpConnect())
                        .withInterval(Duration.ofSeconds(1), Duration.ofMillis(250))
                        .withThresholds(2, 2)),
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

  /** The deadline of every call: the transport's read timeout unless set. */
  static Duration defaultDeadline() {
    return ThriftTransportConfig.defaults().readTimeout();
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
