package dev.switchboard.lb.samples;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.samples.echo.Echo;
import dev.switchboard.lb.thrift.ThriftClients;
import dev.switchboard.lb.thrift.ThriftCluster;
import dev.switchboard.lb.thrift.ThriftServer;
import dev.switchboard.lb.thrift.ThriftService;
import dev.switchboard.lb.thrift.ThriftTransportConfig;
import dev.switchboard.lb.zookeeper.ZooKeeperRegistry;
import java.time.Duration;
import org.apache.thrift.TException;

/** The README's Thrift examples (server and client), compiled so they never rot. */
public final class ThriftExample {
  private ThriftExample() {}

  // README: thrift-server
  /** A handler for the generated Echo service, registered under "echo" in zone "a". */
  @ThriftService(name = "echo", zone = "a", weight = 100)
  public static final class EchoHandler implements Echo.Iface {
    @Override
    public String echo(String message) {
      return message;
    }

    @Override
    public void fire(String message) {}

    @Override
    public String fail(String message) throws TException {
      throw new dev.switchboard.lb.samples.echo.EchoFailure(message);
    }

    @Override
    public String sleep(int millis, String message) {
      return message;
    }

    @Override
    public long count() {
      return 0;
    }

    @Override
    public String whoami() {
      return "example";
    }
  }

  /**
   * Serves Echo on a free port of {@code host} and registers it; {@code close()} drains, then
   * stops.
   */
  public static ThriftServer serve(ServiceRegistry registry, String host) throws TException {
    EchoHandler handler = new EchoHandler();
    return ThriftServer.builder(handler, new Echo.Processor<>(handler))
        .registry(registry)
        // Without host(...): listens on every interface and registers this host's first
        // non-loopback address (IPv4 first); advertiseHost(...) overrides what is registered.
        .host(host)
        .port(0)
        .start();
  }

  // README: end

  /** Calls Echo through a client-side balancer over every registered server. */
  public static String call(String zookeeper) throws TException {
    // README: thrift-client
    try (ServiceRegistry registry = ZooKeeperRegistry.builder().connectString(zookeeper).build();
        ThriftCluster cluster =
            ThriftCluster.create(
                Cluster.builder("echo")
                    .registry(registry)
                    .policy(BalancingPolicy.peakEwma())
                    .localZone("a"),
                ThriftTransportConfig.defaults())) {
      Echo.Iface echo =
          ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
              .idempotent("echo", "whoami") // retried on another server after a timeout
              .timeout(Duration.ofSeconds(2))
              .build();
      return echo.echo("hello"); // one call, balanced over every healthy server
    }
    // README: end
  }
}
