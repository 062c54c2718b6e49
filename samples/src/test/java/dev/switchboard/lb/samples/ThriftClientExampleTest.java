package dev.switchboard.lb.samples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.NoMatchingEndpointException;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.samples.echo.Echo;
import dev.switchboard.lb.thrift.ThriftCluster;
import dev.switchboard.lb.thrift.ThriftServer;
import dev.switchboard.lb.thrift.ThriftTransportConfig;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The README's Thrift client examples, run against real servers on 127.0.0.1. */
class ThriftClientExampleTest {
  private final StaticRegistry registry = new StaticRegistry();
  private final List<AutoCloseable> open = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
  }

  private void serve(Map<String, String> metadata) throws Exception {
    ThriftExample.EchoHandler handler = new ThriftExample.EchoHandler();
    open.add(
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .registry(registry)
            .host("127.0.0.1")
            .port(0)
            .metadata(metadata)
            .drain(Duration.ZERO, Duration.ofSeconds(1))
            .start());
  }

  private ThriftCluster cluster(BalancingPolicy policy) {
    ThriftCluster cluster =
        ThriftCluster.create(
            Cluster.builder("echo").registry(registry).policy(policy),
            ThriftTransportConfig.defaults());
    open.add(cluster);
    return cluster;
  }

  @Test
  void examples_runAgainstRealServers() throws Exception {
    serve(Map.of("version", "2", "tenant", "acme"));
    serve(Map.of("version", "1", "tenant", "acme"));
    ThriftCluster cluster = cluster(BalancingPolicy.roundRobin());

    assertThat(ThriftClientExample.perMethod(cluster).echo("hello")).isEqualTo("hello");
    assertThat(ThriftClientExample.intercepted(cluster).echo("hello"))
        .isEqualTo("hello?token=s3cr3t");
    assertThat(ThriftClientExample.echoAsync(cluster, "hi").get(5, TimeUnit.SECONDS))
        .isEqualTo("hi");
    assertThat(ThriftClientExample.byUser(cluster(BalancingPolicy.consistentHash())).echo("u1"))
        .isEqualTo("u1");
    Echo.Iface canary = ThriftClientExample.canary(cluster);
    assertThat(canary.echo("acme")).isEqualTo("acme");
    assertThatThrownBy(() -> canary.echo("initech"))
        .isInstanceOf(NoMatchingEndpointException.class)
        .hasMessageContaining("{tenant=initech, version=2}");
  }
}
