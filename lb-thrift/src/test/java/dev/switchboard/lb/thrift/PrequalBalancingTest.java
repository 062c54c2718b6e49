package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.LoadProbes;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Prequal over real ThriftServers: a server kept busy by <em>another</em> client, which this
 * client's own in-flight counts cannot see, is avoided because the server says so when probed.
 */
class PrequalBalancingTest {
  private final ThriftFixture fixture = new ThriftFixture();
  private LoadProbes.UdpProber prober;

  @AfterEach
  void close() {
    if (prober != null) {
      prober.close();
    }
    fixture.close();
  }

  @Test
  void serverBusyWithAnotherClientsCalls_prequalAvoidsIt_leastConnectionsDoesNot()
      throws Exception {
    for (int i = 0; i < 4; i++) {
      fixture.start();
    }
    ThriftServer busy = fixture.start();
    String busyAddress = busy.instance().address();
    assertThat(busy.instance().metadata()).containsKey(LoadProbes.METADATA_KEY);

    // Another client, which knows only the busy server, keeps 6 slow calls running there.
    StaticRegistry othersView = new StaticRegistry();
    othersView.add(busy.instance());
    ThriftCluster others =
        ThriftCluster.create(
            dev.switchboard.lb.Cluster.builder("echo")
                .registry(othersView)
                .policy(BalancingPolicy.leastConnections()),
            ThriftTransportConfig.builder().readTimeout(Duration.ofSeconds(10)).build());
    Echo.Iface othersClient = ThriftFixture.client(others);
    try (LoadDriver background = new LoadDriver(6, () -> othersClient.sleep(300, busyAddress))) {
      await("the other client's calls in flight on the busy server")
          .atMost(Duration.ofSeconds(30))
          .until(() -> busy.inFlight() >= 6);

      prober = LoadProbes.newProber();
      run(busyAddress, BalancingPolicy.leastConnections()); // warms the client path up
      Run leastConnections = run(busyAddress, BalancingPolicy.leastConnections());
      Run prequal = run(busyAddress, BalancingPolicy.prequal(prober));

      System.out.printf(
          "busy server: prequal %s, least connections %s (probes sent %d, answered %d)%n",
          prequal, leastConnections, prober.sent(), prober.answered());
      assertThat(background.failed.get()).isZero();
      assertThat(prober.answered()).isPositive();
      // Least connections sees only this client's calls: about the even fifth.
      assertThat(leastConnections.share()).isGreaterThan(0.12);
      assertThat(prequal.share()).isLessThan(leastConnections.share() / 3);
    } finally {
      others.close();
    }
  }

  private record Run(long busyCalls, long calls, long p99Nanos) {
    double share() {
      return (double) busyCalls / calls;
    }

    @Override
    public String toString() {
      return String.format("%d of %d calls, p99 %.1f ms", busyCalls, calls, p99Nanos / 1e6);
    }
  }

  /** 3,000 whoami calls from 4 callers under {@code policy}: the busy server's, and the p99. */
  private Run run(String address, BalancingPolicy policy) {
    ThriftCluster cluster = fixture.cluster(policy);
    Echo.Iface client = ThriftFixture.client(cluster, "whoami");
    try (LoadDriver load = new LoadDriver(4, client::whoami)) {
      await().atMost(Duration.ofSeconds(60)).until(() -> load.total() >= 3000);
      load.close();
      assertThat(load.failed.get()).isZero();
      long[] latencies = load.latencies(0, Long.MAX_VALUE);
      java.util.Arrays.sort(latencies);
      return new Run(load.callsTo(address), load.total(), LoadDriver.quantile(latencies, 0.99));
    }
  }
}
