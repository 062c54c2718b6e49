package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The asynchronous proxy over a generated {@code AsyncIface}, on real Thrift servers: calls go
 * through the same call engine as blocking ones (balancing, retries elsewhere, hedging), and the
 * caller's thread never waits.
 */
class AsyncThriftClientTest {
  private final ThriftFixture f = new ThriftFixture();
  private final ExecutorService executor = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() throws Exception {
    f.close();
    executor.shutdownNow();
  }

  private Echo.AsyncIface async(ThriftClients.Builder<Echo.Iface> b) {
    return b.buildAsync(Echo.AsyncIface.class, executor);
  }

  private static ThriftClients.Builder<Echo.Iface> builder(ThriftCluster cluster) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .idempotent("echo")
        .timeout(Duration.ofSeconds(5));
  }

  @Test
  void echo_spreadOverEveryServer_callerNeverBlocks() throws Exception {
    for (int i = 0; i < 3; i++) {
      f.start();
    }
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.AsyncIface echo = async(builder(cluster));
    List<FutureCallback<String>> replies = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      FutureCallback<String> reply = new FutureCallback<>();
      echo.echo("m" + i, reply);
      replies.add(reply);
    }
    for (int i = 0; i < 30; i++) {
      assertThat(replies.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("m" + i);
    }
    assertThat(f.servers.values()).allSatisfy(h -> assertThat(h.calls()).isPositive());
    await().atMost(Duration.ofSeconds(5)).until(() -> inFlight(cluster) == 0);
  }

  @Test
  void echo_deadMember_isRetriedElsewhere_declaredExceptionReachesOnError() throws Exception {
    f.start();
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    f.registry.add(
        dev.switchboard.lb.ServiceInstance.builder("echo", "127.0.0.1", deadPort)
            .id("dead")
            .build());
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> cluster.cluster().snapshot().endpoints().size() == 2);
    Echo.AsyncIface echo = async(builder(cluster));
    for (int i = 0; i < 6; i++) {
      FutureCallback<String> reply = new FutureCallback<>();
      echo.echo("r" + i, reply);
      assertThat(reply.get(10, TimeUnit.SECONDS)).isEqualTo("r" + i);
    }

    FutureCallback<String> failed = new FutureCallback<>();
    echo.fail("no", failed);
    assertThat(failed)
        .failsWithin(Duration.ofSeconds(10))
        .withThrowableOfType(ExecutionException.class)
        .withCauseInstanceOf(EchoFailure.class);
  }

  @Test
  void echo_stuckOnASlowServer_isAnsweredByTheHedge() throws Exception {
    ThriftServer slow = f.start();
    f.start();
    f.handler(slow).delayEcho(3_000);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.AsyncIface echo = async(builder(cluster).hedge(Duration.ofMillis(20), 100));
    long start = System.nanoTime();
    List<FutureCallback<String>> replies = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      FutureCallback<String> reply = new FutureCallback<>();
      echo.echo("h" + i, reply);
      replies.add(reply);
    }
    for (int i = 0; i < 6; i++) {
      assertThat(replies.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("h" + i);
    }
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    assertThat(cluster.hedgesWon()).isPositive();
  }

  @Test
  void buildAsync_rejectsAnInterfaceThatIsNotAGeneratedAsyncIface() {
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> builder(cluster).buildAsync(Echo.Iface.class, executor))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("AsyncMethodCallback");
  }

  private static int inFlight(ThriftCluster cluster) {
    int n = 0;
    for (EndpointSnapshot e : cluster.cluster().snapshot().endpoints()) {
      n += e.inFlight();
    }
    return n;
  }
}
