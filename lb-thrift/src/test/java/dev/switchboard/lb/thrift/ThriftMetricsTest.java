package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.thrift.test.Echo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** Pool and hedge meters of a Thrift cluster, read from a real hedged run. */
class ThriftMetricsTest {

  @Test
  void hedgedCalls_showInTheHedgeAndConnectionMeters() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (ThriftFixture f = new ThriftFixture()) {
      ThriftServer slow = f.start();
      f.start();
      f.handler(slow).delayEcho(200);
      ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
      Echo.Iface echo =
          ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
              .idempotent("echo")
              .hedge(Duration.ofMillis(20), 100)
              .build();
      try (ThriftMetrics metrics = ThriftMetrics.bind(cluster, registry)) {
        for (int i = 0; i < 6; i++) {
          assertThat(echo.echo("m" + i)).isEqualTo("m" + i);
        }
        assertThat(cluster.hedgesWon()).isPositive();
        assertThat(count(registry, ThriftMetrics.HEDGES, "result", "sent"))
            .isEqualTo(cluster.hedgesSent());
        assertThat(count(registry, ThriftMetrics.HEDGES, "result", "won"))
            .isEqualTo(cluster.hedgesWon());
        await("the slow attempts' connections drained or closed")
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    cluster.poolStats().abandonedKept() + cluster.poolStats().abandonedClosed()
                        > 0);
        PoolStats stats = cluster.poolStats();
        assertThat(count(registry, ThriftMetrics.ABANDONED, "fate", "kept"))
            .isEqualTo(stats.abandonedKept());
        assertThat(count(registry, ThriftMetrics.ABANDONED, "fate", "closed"))
            .isEqualTo(stats.abandonedClosed());
        assertThat(registry.get(ThriftMetrics.OPEN).tag("service", "echo").gauge().value())
            .isEqualTo(stats.open());
        assertThat(registry.get(ThriftMetrics.CREATED).functionCounter().count())
            .isEqualTo(stats.created());
      }
      assertThat(registry.find(ThriftMetrics.HEDGES).meters()).as("removed on close").isEmpty();
    }
  }

  private static long count(SimpleMeterRegistry registry, String name, String tag, String value) {
    return (long) registry.get(name).tag(tag, value).functionCounter().count();
  }
}
