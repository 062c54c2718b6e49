package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.testing.NetworkLab;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Issue 18's scenario 4 on real processes: one of three echo servers behind a lossy link (2%, then
 * 10% of its packets dropped each way, as nftables' {@code numgen random}), 8 callers of an
 * idempotent method, the library's defaults (adaptive hedging). Latency-aware policies move traffic
 * away from the lossy server; hedges keep the tail short. Prints each phase's figures; asserts no
 * call fails and the lossy server's share falls. Skipped where namespaces cannot be made.
 */
class LossyLinkTest {
  private static final int CALLERS = 8;

  @Test
  void lossyLink_peakEwma_noFailedCall_trafficMovesAway() throws Exception {
    lossyLink("4 lossy link, peak EWMA", BalancingPolicy.peakEwma());
  }

  @Test
  void lossyLink_leastConnections_noFailedCall_trafficMovesAway() throws Exception {
    lossyLink("4 lossy link, least conn.", BalancingPolicy.leastConnections());
  }

  private static void lossyLink(String label, BalancingPolicy policy) throws Exception {
    try (NetworkLab lab = NetworkLab.open();
        FaultScenario s = new FaultScenario(lab, "lossy");
        ThriftCluster cluster =
            ThriftCluster.create(
                Cluster.builder("echo").registry(s.registry).policy(policy),
                ThriftTransportConfig.defaults())) {
      Echo.Iface echo =
          ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
              .idempotent("whoami")
              .build();
      LoadDriver load = s.load(cluster, echo, CALLERS);
      Phase healthy = Phase.run(load, s.victimAddress);

      s.host.loss(2);
      Phase two = Phase.run(load, s.victimAddress);
      s.host.loss(10);
      Phase ten = Phase.run(load, s.victimAddress);
      s.host.heal();
      load.close();

      System.out.println(Phase.header());
      System.out.println(healthy.row(label + ", no loss", load));
      System.out.println(two.row(label + ", 2%", load));
      System.out.println(ten.row(label + ", 10%", load));
      System.out.println(load.summary(label) + ", hedges sent " + cluster.hedgesSent());
      assertThat(load.failures).as("failed idempotent calls").isEmpty();
      assertThat(ten.share())
          .as("lossy server's share of calls at 10%% loss vs without loss")
          .isLessThan(healthy.share());
    }
  }

  /** A stretch of at least 5 s and 10,000 calls: the victim's share of answers, its timings. */
  private record Phase(long from, long to, long calls, long toVictim) {
    static Phase run(LoadDriver load, String victim) {
      long from = System.nanoTime();
      long total = load.total();
      long victimCalls = load.callsTo(victim);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> load.total() >= total + 10_000 && System.nanoTime() - from > 5e9);
      return new Phase(
          from, System.nanoTime(), load.total() - total, load.callsTo(victim) - victimCalls);
    }

    double share() {
      return calls == 0 ? 0 : (double) toVictim / calls;
    }

    static String header() {
      return "| scenario                           |  calls | to lossy | max ms | p99 ms | p99.9 ms |";
    }

    String row(String label, LoadDriver load) {
      long[] l = load.latencies(from, to);
      return String.format(
          "| %-34s | %6d | %7.1f%% | %6.0f | %6.1f | %8.1f |",
          label,
          calls,
          100 * share(),
          (l.length == 0 ? 0 : l[l.length - 1]) / 1e6,
          LoadDriver.quantile(l, 0.99) / 1e6,
          LoadDriver.quantile(l, 0.999) / 1e6);
    }
  }
}
