package dev.switchboard.lb.consul;

import static dev.switchboard.lb.consul.TestConsul.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.consul.testing.ConsulStandIn;
import dev.switchboard.lb.thrift.EchoHandler;
import dev.switchboard.lb.thrift.ThriftClients;
import dev.switchboard.lb.thrift.ThriftCluster;
import dev.switchboard.lb.thrift.ThriftServer;
import dev.switchboard.lb.thrift.ThriftTransportConfig;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Thrift servers registering through Consul and a Thrift client balancing over them: one server
 * drains and deregisters mid-load, and no call fails (not even non-idempotent ones).
 */
class ThriftOnConsulTest {

  @Test
  void serverDeregisteredMidLoad_noFailedCall() throws Exception {
    try (ConsulStandIn agent = ConsulStandIn.start();
        ConsulRegistry servers = registry(agent.uri()).ttl(Duration.ofSeconds(5)).build();
        ConsulRegistry clients = registry(agent.uri()).build()) {
      List<ThriftServer> started = new ArrayList<>();
      List<EchoHandler> handlers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        EchoHandler handler = new EchoHandler();
        ThriftServer server =
            ThriftServer.builder(handler, new Echo.Processor<>(handler))
                .host("127.0.0.1")
                .registry(servers)
                .drain(Duration.ofMillis(300), Duration.ofSeconds(5))
                .start();
        handler.identity(server.instance().address());
        started.add(server);
        handlers.add(handler);
      }
      try (ThriftCluster cluster =
          ThriftCluster.create(
              Cluster.builder("echo").registry(clients).policy(BalancingPolicy.roundRobin()),
              ThriftTransportConfig.builder().warmUp(0, Duration.ZERO).build())) {
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> cluster.cluster().snapshot().eligibleCount() == 3);
        Echo.Iface echo = ThriftClients.create(Echo.Iface.class, Echo.Client::new, cluster);
        AtomicLong calls = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicReference<Throwable> firstFailure = new AtomicReference<>();
        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
          Thread caller =
              new Thread(
                  () -> {
                    while (!stop.get()) {
                      try {
                        echo.echo("x");
                        calls.incrementAndGet();
                      } catch (Exception e) {
                        failed.incrementAndGet();
                        firstFailure.compareAndSet(null, e);
                      }
                    }
                  },
                  "caller-" + t);
          callers.add(caller);
          caller.start();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> calls.get() >= 2000);
        ThriftServer leaving = started.get(0);
        leaving.close(); // drain in Consul, deregister, finish in-flight calls, stop
        long leftAt = handlers.get(0).calls();
        long mark = calls.get();
        await().atMost(Duration.ofSeconds(30)).until(() -> calls.get() >= mark + 3000);
        stop.set(true);
        for (Thread caller : callers) {
          caller.join();
        }
        System.out.printf(
            "[consul+thrift] %d calls, %d failed; the drained server took %d calls%n",
            calls.get(), failed.get(), leftAt);
        assertThat(firstFailure.get()).isNull();
        assertThat(failed.get()).isZero();
        assertThat(handlers.get(0).calls()).as("no call after it stopped").isEqualTo(leftAt);
        assertThat(cluster.cluster().snapshot().endpoints()).hasSize(2);
      } finally {
        for (ThriftServer s : started) {
          s.kill();
        }
      }
    }
  }
}
