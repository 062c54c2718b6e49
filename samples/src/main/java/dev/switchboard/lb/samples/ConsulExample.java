package dev.switchboard.lb.samples;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.consul.ConsulRegistry;
import dev.switchboard.lb.samples.echo.Echo;
import dev.switchboard.lb.thrift.ThriftClients;
import dev.switchboard.lb.thrift.ThriftCluster;
import dev.switchboard.lb.thrift.ThriftServer;
import dev.switchboard.lb.thrift.ThriftTransportConfig;
import java.net.URI;
import java.time.Duration;
import org.apache.thrift.TException;

/** The README's Consul example, compiled so it never rots. */
public final class ConsulExample {
  private ConsulExample() {}

  /**
   * Registers one Echo server with the Consul agent at {@code agent}, calls it through a
   * client-side balancer watching the same agent, then drains and deregisters it.
   */
  public static String serveAndCall(URI agent) throws TException {
    // README: consul-example
    try (ConsulRegistry registry =
        ConsulRegistry.builder()
            .agentUri(agent) // the local agent, e.g. http://127.0.0.1:8500
            .ttl(Duration.ofSeconds(10)) // TTL check, heartbeats sent for you
            .build()) {
      ThriftExample.EchoHandler handler = new ThriftExample.EchoHandler();
      try (ThriftServer server =
              ThriftServer.builder(handler, new Echo.Processor<>(handler))
                  .registry(registry) // registered as "echo" (from @ThriftService) once serving
                  .host("127.0.0.1") // this example's client is local; omit in a fleet
                  .port(0)
                  .start();
          ThriftCluster cluster =
              ThriftCluster.create(
                  Cluster.builder("echo").registry(registry), ThriftTransportConfig.defaults())) {
        Echo.Iface echo =
            ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
                .idempotent("echo")
                .timeout(Duration.ofSeconds(2))
                .build();
        return echo.echo("hello over Consul");
      } // server.close(): drain, deregister, finish in-flight calls, stop
    }
    // README: end
  }
}
