package dev.switchboard.lb.thrift;

import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.CallListener;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.testing.LabHost;
import dev.switchboard.lb.testing.NetworkLab;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Three echo server processes registered in a static registry: a victim on a {@link NetworkLab}
 * host (so its network can fail while it runs) and two on 127.0.0.1; a cluster's view of the victim
 * (calls routed to it, when it left and re-entered rotation); and the figures of a run.
 */
final class FaultScenario implements AutoCloseable {
  final StaticRegistry registry = new StaticRegistry();
  final LabHost host;
  final ServerProcess victim;
  final String victimAddress;
  private final List<ServerProcess> others = new ArrayList<>();
  final Routing routing;

  FaultScenario(NetworkLab lab, String hostName) throws Exception {
    host = lab.host(hostName);
    victim = ServerProcess.await(host.start(ServerProcess.command(host.address())));
    victimAddress = host.address() + ":" + victim.port;
    registry.add(ServiceInstance.builder("echo", host.address(), victim.port).build());
    for (int i = 0; i < 2; i++) {
      ServerProcess p = ServerProcess.start();
      others.add(p);
      registry.add(ServiceInstance.builder("echo", "127.0.0.1", p.port).build());
    }
    routing = new Routing(victimAddress);
  }

  /** Starts {@code callers} callers of the idempotent {@code whoami} and waits for them to warm. */
  LoadDriver load(ThriftCluster cluster, Echo.Iface echo, int callers) {
    cluster.cluster().addListener(routing);
    LoadDriver load = new LoadDriver(callers, echo::whoami);
    await("all three servers answering")
        .atMost(Duration.ofSeconds(60))
        .until(() -> load.byServer.size() == 3 && load.total() >= 3000);
    return load;
  }

  static Eligibility eligibility(ThriftCluster cluster, String address) {
    return snapshot(cluster, address).eligibility();
  }

  static EndpointSnapshot snapshot(ThriftCluster cluster, String address) {
    return cluster.cluster().snapshot().endpoint(address).orElseThrow();
  }

  @Override
  public void close() {
    for (ServerProcess p : others) {
      p.close();
    }
    victim.close();
  }

  /** Figures of one run, printed as a table row. */
  static String row(
      String scenario, LoadDriver load, long faultNanos, long endNanos, Routing routing) {
    long[] during = load.latencies(faultNanos, endNanos);
    long[] event = load.latencies(faultNanos, faultNanos + Duration.ofSeconds(5).toNanos());
    long last = routing.lastRoutedNanos.get();
    return String.format(
        "| %-34s | %8d | %6d | %9.0f | %9.1f | %15s | %13s |",
        scenario,
        load.total(),
        load.failed.get(),
        millis(during.length == 0 ? 0 : during[during.length - 1]),
        millis(LoadDriver.quantile(event, 0.999)),
        last - faultNanos > 0 ? String.format("%.0f ms", millis(last - faultNanos)) : "none after",
        routing.leftNanos - faultNanos > 0
            ? String.format("%.0f ms", millis(routing.leftNanos - faultNanos))
            : "-");
  }

  static String header() {
    return "| scenario                           |    calls | failed | max ms    | p99.9 ms  |"
        + " last routed to  | left rotation |\n"
        + "|                                    |          |        | (fault..) | (5 s)     |"
        + " victim (+fault) | (+fault)      |";
  }

  private static double millis(long nanos) {
    return nanos / 1e6;
  }

  /** Hears which calls go to the victim and when it leaves and re-enters rotation. */
  static final class Routing implements ClusterListener, CallListener {
    private final String victim;
    final AtomicLong lastRoutedNanos = new AtomicLong();
    final AtomicLong routed = new AtomicLong();
    volatile long leftNanos;
    volatile long backNanos;

    Routing(String victim) {
      this.victim = victim;
    }

    @Override
    public void callStarted(Lease lease, Candidates candidates) {
      if (lease.endpoint().address().equals(victim)) {
        lastRoutedNanos.accumulateAndGet(System.nanoTime(), Math::max);
        routed.incrementAndGet();
      }
    }

    @Override
    public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
      if (endpoint.address().equals(victim)) {
        if (from == Eligibility.ELIGIBLE) {
          leftNanos = System.nanoTime();
        } else if (to == Eligibility.ELIGIBLE) {
          backNanos = System.nanoTime();
        }
      }
    }
  }
}
