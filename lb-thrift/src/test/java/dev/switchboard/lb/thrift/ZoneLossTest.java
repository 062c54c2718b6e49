package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.testing.LabHost;
import dev.switchboard.lb.testing.NetworkLab;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Issue 18's scenario 2 on real processes: two echo servers in each of three zones, each zone a
 * {@link NetworkLab} host; 8 callers in zone a at the library's defaults (local zone a, panic
 * threshold 50%, outlier ejection, adaptive hedging of the idempotent method). Zone a is
 * black-holed, then zones a and b, then both heal. Skipped where namespaces cannot be made; CI runs
 * it as root.
 */
class ZoneLossTest {
  private static final int CALLERS = 8;
  private static final List<String> ZONES = List.of("a", "b", "c");

  @Test
  void zoneLoss_atDefaults_noFailedIdempotentCall_trafficBackInLocalZoneAfterHeal()
      throws Exception {
    StaticRegistry registry = new StaticRegistry();
    List<ServerProcess> servers = new ArrayList<>();
    Map<String, List<String>> addresses = new TreeMap<>();
    try (NetworkLab lab = NetworkLab.open()) {
      List<LabHost> hosts = new ArrayList<>();
      List<Process> started = new ArrayList<>();
      for (String zone : ZONES) {
        LabHost host = lab.host("zone-" + zone);
        hosts.add(host);
        for (int i = 0; i < 2; i++) {
          started.add(host.start(ServerProcess.command(host.address())));
        }
      }
      for (int i = 0; i < started.size(); i++) {
        LabHost host = hosts.get(i / 2);
        String zone = ZONES.get(i / 2);
        ServerProcess p = ServerProcess.await(started.get(i));
        servers.add(p);
        registry.add(ServiceInstance.builder("echo", host.address(), p.port).zone(zone).build());
        addresses.computeIfAbsent(zone, z -> new ArrayList<>()).add(host.address() + ":" + p.port);
      }
      try (ThriftCluster cluster =
          ThriftCluster.create(
              Cluster.builder("echo").registry(registry).localZone("a"),
              ThriftTransportConfig.defaults())) {
        Echo.Iface echo =
            ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
                .idempotent("whoami")
                .build();
        List<FaultScenario.Routing> zoneA = routings(cluster, addresses.get("a"));
        List<FaultScenario.Routing> zoneB = routings(cluster, addresses.get("b"));
        LoadDriver load = new LoadDriver(CALLERS, echo::whoami);
        await("zone a answering")
            .atMost(Duration.ofSeconds(60))
            .until(() -> inZone(load, addresses.get("a")) >= 3000);
        assertThat(inZone(load, addresses.get("b")) + inZone(load, addresses.get("c")))
            .as("calls outside the healthy local zone")
            .isLessThan(inZone(load, addresses.get("a")) / 10);

        long lostA = System.nanoTime();
        hosts.get(0).blackHole();
        long servedC = inZone(load, addresses.get("c")) + inZone(load, addresses.get("b"));
        await("zones b and c serving")
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    inZone(load, addresses.get("c")) + inZone(load, addresses.get("b"))
                            > servedC + 5000
                        && System.nanoTime() - lostA > 5e9);

        long[] zoneAFigures = {lastRouted(zoneA), left(zoneA)};
        long lostB = System.nanoTime();
        hosts.get(1).blackHole();
        long onlyC = inZone(load, addresses.get("c"));
        await("zone c serving alone")
            .atMost(Duration.ofSeconds(60))
            .until(
                () ->
                    inZone(load, addresses.get("c")) > onlyC + 5000
                        && System.nanoTime() - lostB > 5e9);
        long routedToDeadBeforeHeal = routed(zoneA) + routed(zoneB);
        long lastCallsToC = inZone(load, addresses.get("c"));
        await("zone c serving alone, still")
            .atMost(Duration.ofSeconds(60))
            .until(() -> inZone(load, addresses.get("c")) > lastCallsToC + 5000);
        long routedToDeadLater = routed(zoneA) + routed(zoneB) - routedToDeadBeforeHeal;
        String panic = cluster.cluster().snapshot().toString();

        long[] zoneBFigures = {lastRouted(zoneB), left(zoneB)};
        long healed = System.nanoTime();
        hosts.get(0).heal();
        hosts.get(1).heal();
        long localBefore = inZone(load, addresses.get("a"));
        await("traffic back in zone a")
            .atMost(Duration.ofSeconds(90))
            .until(() -> inZone(load, addresses.get("a")) > localBefore + 3000);
        long backAfter = System.nanoTime() - healed;
        // Then most calls stay local again: of a window of 5,000 calls, under 1 in 10 elsewhere.
        long[] window = {inZone(load, addresses.get("a")), elsewhere(load, addresses)};
        long[] share = new long[2];
        await("local zone taking most calls again")
            .atMost(Duration.ofSeconds(60))
            .until(
                () -> {
                  share[0] = inZone(load, addresses.get("a")) - window[0];
                  share[1] = elsewhere(load, addresses) - window[1];
                  if (share[0] + share[1] < 5000) {
                    return false;
                  }
                  window[0] += share[0];
                  window[1] += share[1];
                  return share[1] < share[0] / 10;
                });
        long localShare = share[0];
        long othersShare = share[1];
        load.close();

        System.out.println(row("2 zone a lost (defaults)", load, lostA, lostB, zoneAFigures));
        System.out.println(row("2 zones a+b lost (defaults)", load, lostB, healed, zoneBFigures));
        System.out.printf(
            "[zone loss] routed to a dead zone once c served alone: %d; local traffic back %.1f s"
                + " after heal; then %d local vs %d elsewhere%n",
            routedToDeadLater, backAfter / 1e9, localShare, othersShare);
        System.out.println(load.summary("zone loss") + "; " + panic);
        assertThat(load.failures).as("failed idempotent calls").isEmpty();
        for (String address : addresses.get("a")) {
          assertThat(FaultScenario.eligibility(cluster, address)).isEqualTo(Eligibility.ELIGIBLE);
        }
      }
    } finally {
      for (ServerProcess p : servers) {
        p.close();
      }
    }
  }

  private static List<FaultScenario.Routing> routings(ThriftCluster cluster, List<String> zone) {
    List<FaultScenario.Routing> out = new ArrayList<>();
    for (String address : zone) {
      FaultScenario.Routing r = new FaultScenario.Routing(address);
      cluster.cluster().addListener(r);
      out.add(r);
    }
    return out;
  }

  private static long routed(List<FaultScenario.Routing> zone) {
    return zone.stream().mapToLong(r -> r.routed.get()).sum();
  }

  private static long inZone(LoadDriver load, List<String> zone) {
    return zone.stream().mapToLong(load::callsTo).sum();
  }

  private static long elsewhere(LoadDriver load, Map<String, List<String>> addresses) {
    return inZone(load, addresses.get("b")) + inZone(load, addresses.get("c"));
  }

  private static long lastRouted(List<FaultScenario.Routing> zone) {
    return zone.stream().mapToLong(r -> r.lastRoutedNanos.get()).max().orElse(0);
  }

  /** When the last of the zone's members left rotation (0: one never did). */
  private static long left(List<FaultScenario.Routing> zone) {
    return zone.stream().anyMatch(r -> r.leftNanos == 0)
        ? 0
        : zone.stream().mapToLong(r -> r.leftNanos).max().orElse(0);
  }

  /**
   * The figures of one phase in FaultScenario's table's columns; {@code lost} holds when a call was
   * last routed to the lost zone and when its last member left rotation, read at the phase's end.
   */
  private static String row(String scenario, LoadDriver load, long from, long to, long[] lost) {
    long[] during = load.latencies(from, to);
    return String.format(
        "| %-34s | %8d | %6d | %9.0f | %9.1f | %15s | %13s |",
        scenario,
        during.length,
        load.failed.get(), // over the whole run
        (during.length == 0 ? 0 : during[during.length - 1]) / 1e6,
        LoadDriver.quantile(during, 0.999) / 1e6,
        lost[0] - from > 0 ? String.format("%.0f ms", (lost[0] - from) / 1e6) : "none after",
        lost[1] - from > 0 ? String.format("%.0f ms", (lost[1] - from) / 1e6) : "-");
  }
}
