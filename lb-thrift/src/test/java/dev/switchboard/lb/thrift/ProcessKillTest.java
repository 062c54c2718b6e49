package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A server in its own JVM killed with SIGKILL under load: no idempotent call fails. */
class ProcessKillTest {

  @Test
  void sigkillOneOfThreeServerProcesses_noFailedIdempotentCall_victimEjected() throws Exception {
    List<ServerProcess> processes = new ArrayList<>();
    try (ThriftFixture f = new ThriftFixture()) {
      for (int i = 0; i < 3; i++) {
        ServerProcess p = ServerProcess.start();
        processes.add(p);
        f.registry.add(ServiceInstance.builder("echo", "127.0.0.1", p.port).build());
      }
      ThriftCluster cluster = f.cluster(BalancingPolicy.peakEwma());
      Echo.Iface echo = ThriftFixture.client(cluster, "whoami");
      LoadDriver load = new LoadDriver(16, echo::whoami);
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> load.byServer.size() == 3 && load.total() >= 3000);

      ServerProcess victim = processes.get(0);
      String address = "127.0.0.1:" + victim.port;
      long killedAt = System.nanoTime();
      victim.kill();
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> eligibility(cluster, address) != Eligibility.ELIGIBLE);
      double ejectMillis = (System.nanoTime() - killedAt) / 1e6;
      long before = load.callsTo(address); // replies already in flight at the kill are counted
      long mark = load.total();
      await().atMost(Duration.ofSeconds(60)).until(() -> load.total() >= mark + 5000);
      load.close();
      System.out.println(load.summary("SIGKILL 1 of 3 server processes, peak EWMA, 16 callers"));
      System.out.printf(
          "[SIGKILL] victim out of rotation %.0f ms after the kill (%s); it answered %d calls, none after%n",
          ejectMillis, eligibility(cluster, address).description(), before);
      assertThat(load.failures).isEmpty();
      assertThat(load.callsTo(address)).isEqualTo(before);
    } finally {
      for (ServerProcess p : processes) {
        p.close();
      }
    }
  }

  private static Eligibility eligibility(ThriftCluster cluster, String address) {
    return cluster
        .cluster()
        .snapshot()
        .endpoint(address)
        .map(EndpointSnapshot::eligibility)
        .orElseThrow();
  }
}
