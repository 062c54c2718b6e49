package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Timeouts longer than {@code Integer.MAX_VALUE} milliseconds (about 24.8 days) are clamped, not
 * overflowed into a negative socket timeout: calls and warm-up connects work as with any long
 * timeout.
 */
class LongTimeoutTest {
  private final ThriftFixture f = new ThriftFixture();

  @AfterEach
  void tearDown() {
    f.close();
  }

  @Test
  void connectAndReadTimeoutsOfThirtyDaysAndMore_callsAndWarmUpStillWork() throws Exception {
    f.start();
    for (Duration huge : new Duration[] {Duration.ofDays(30), Duration.ofSeconds(Long.MAX_VALUE)}) {
      try (ThriftCluster cluster =
          ThriftCluster.create(
              Cluster.builder("echo")
                  .registry(f.registry)
                  .policy(BalancingPolicy.roundRobin())
                  .updateDebounce(Duration.ZERO),
              ThriftTransportConfig.builder()
                  .connectTimeout(huge)
                  .readTimeout(huge)
                  .warmUp(1, Duration.ZERO)
                  .build())) {
        await("warm-up connect with a " + huge + " connect timeout")
            .atMost(Duration.ofSeconds(10))
            .until(() -> cluster.poolStats().idle() == 1);
        Echo.Iface echo =
            ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
                .timeout(huge)
                .build();
        assertThat(echo.echo("long")).isEqualTo("long");
      }
    }
  }
}
