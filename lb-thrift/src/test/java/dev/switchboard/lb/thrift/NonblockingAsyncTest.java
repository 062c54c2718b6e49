package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.transport.TTransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Asynchronous calls through {@code buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new)}: no
 * thread per call in flight, and the same engine as blocking calls (retries elsewhere, hedges,
 * deadlines, declared exceptions as answers).
 */
class NonblockingAsyncTest {
  private final ThriftFixture f = new ThriftFixture();
  private final List<ThriftServer> servers = new ArrayList<>();
  private final ExecutorService executor = Executors.newCachedThreadPool();

  @AfterEach
  void tearDown() {
    f.close();
    servers.forEach(ThriftServer::kill);
    executor.shutdownNow();
  }

  private ThriftServer server(EchoHandler handler, int workerThreads) throws TTransportException {
    ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .registry(f.registry)
            .host("127.0.0.1")
            .workerThreads(workerThreads)
            .drain(Duration.ZERO, Duration.ofSeconds(1))
            .start();
    servers.add(server);
    return server;
  }

  private static ThriftClients.Builder<Echo.Iface> builder(ThriftCluster cluster) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .idempotent("echo", "fail")
        .timeout(Duration.ofSeconds(10));
  }

  @Test
  void twoThousandCallsInFlight_fromOneThread_addNoThreadPerCall() throws Exception {
    EchoHandler handler = new EchoHandler();
    server(handler, 8);
    server(handler, 8);
    ThriftCluster cluster =
        f.cluster(
            BalancingPolicy.leastConnections(),
            b -> b,
            // 1,800 connects at once on a loaded machine: generous timeouts, so none is a failure.
            ThriftTransportConfig.builder()
                .pool(1_024, 1_024)
                .connectTimeout(Duration.ofSeconds(10))
                .readTimeout(Duration.ofSeconds(30))
                .warmUp(0, Duration.ZERO)
                .build());
    // Without hedges, so the servers see each call exactly once.
    Echo.AsyncIface echo =
        builder(cluster).noHedging().buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new);
    burst(echo, 200); // the servers' worker threads and the client's selector start here
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    int before = threads.getThreadCount();
    threads.resetPeakThreadCount();

    burst(echo, 2_000);
    // A thread per call in flight would add hundreds; anything else in the JVM may add a few.
    assertThat(threads.getPeakThreadCount() - before)
        .as("threads added while 2,000 calls were in flight")
        .isLessThan(100);
    assertThat(handler.calls()).isEqualTo(2_200);
  }

  /** Starts {@code calls} calls from this thread without waiting, then waits for every answer. */
  private static void burst(Echo.AsyncIface echo, int calls) throws Exception {
    List<FutureCallback<String>> replies = new ArrayList<>();
    for (int i = 0; i < calls; i++) {
      FutureCallback<String> reply = new FutureCallback<>();
      echo.echo("m" + i, reply);
      replies.add(reply);
    }
    for (int i = 0; i < replies.size(); i++) {
      assertThat(replies.get(i).get(1, TimeUnit.MINUTES)).isEqualTo("m" + i);
    }
  }

  @Test
  void declaredException_isAnAnswer_neverRetried_inBothAsynchronousModes() throws Exception {
    EchoHandler a = new EchoHandler();
    EchoHandler b = new EchoHandler();
    server(a, 4);
    server(b, 4);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    List<Echo.AsyncIface> proxies =
        List.of(
            builder(cluster).buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new),
            builder(cluster).buildAsync(Echo.AsyncIface.class, executor));
    for (Echo.AsyncIface echo : proxies) {
      long calls = a.calls() + b.calls();
      FutureCallback<String> failed = new FutureCallback<>();
      echo.fail("no", failed);
      assertThat(failed)
          .failsWithin(Duration.ofSeconds(10))
          .withThrowableOfType(ExecutionException.class)
          .withCauseInstanceOf(EchoFailure.class);
      assertThat(a.calls() + b.calls() - calls).as("attempts of one failing call").isEqualTo(1);
    }
  }

  @Test
  void deadMember_isRetriedElsewhere_slowOneIsHedged_pastDeadlineFails() throws Exception {
    EchoHandler slow = new EchoHandler();
    slow.delayEcho(3_000);
    server(slow, 4);
    server(new EchoHandler(), 4);
    int deadPort;
    try (ServerSocket s = new ServerSocket(0)) {
      deadPort = s.getLocalPort();
    }
    f.registry.add(ServiceInstance.builder("echo", "127.0.0.1", deadPort).id("dead").build());
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.AsyncIface echo =
        builder(cluster)
            .hedge(Duration.ofMillis(20), 100)
            .buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new);
    List<FutureCallback<String>> replies = new ArrayList<>();
    for (int i = 0; i < 9; i++) {
      FutureCallback<String> reply = new FutureCallback<>();
      echo.echo("r" + i, reply);
      replies.add(reply);
    }
    for (int i = 0; i < replies.size(); i++) {
      assertThat(replies.get(i).get(10, TimeUnit.SECONDS)).isEqualTo("r" + i);
    }
    assertThat(cluster.hedgesWon()).isPositive();

    Echo.AsyncIface hurried =
        builder(cluster)
            .timeout(Duration.ofMillis(300))
            .buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new);
    FutureCallback<String> late = new FutureCallback<>();
    hurried.sleep(5_000, "too late", late);
    assertThat(late).failsWithin(Duration.ofSeconds(10));
  }

  @Test
  void nonblockingProxy_overUnframedTransportOrWithInterceptors_isRefusedWithTheAlternative() {
    ThriftCluster unframed =
        f.cluster(
            BalancingPolicy.roundRobin(),
            b -> b,
            ThriftTransportConfig.builder().framed(false).build());
    assertThatThrownBy(
            () -> builder(unframed).buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("unframed")
        .hasMessageContaining("buildAsync(asyncIface, executor)");
    ThriftCluster framed = f.cluster(BalancingPolicy.roundRobin());
    assertThatThrownBy(
            () ->
                builder(framed)
                    .interceptor(chain -> chain.proceed(chain.args()))
                    .buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("interceptors")
        .hasMessageContaining("buildAsync(asyncIface, executor)");
  }

  @Test
  void cluster_closed_stopsItsSelector() throws Exception {
    server(new EchoHandler(), 4);
    ThriftCluster cluster =
        ThriftCluster.create(
            Cluster.builder("echo").registry(f.registry), ThriftTransportConfig.defaults());
    Echo.AsyncIface echo =
        builder(cluster).buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new);
    Set<Thread> selectorsBefore = selectors();
    FutureCallback<String> reply = new FutureCallback<>();
    echo.echo("once", reply);
    assertThat(reply.get(10, TimeUnit.SECONDS)).isEqualTo("once");
    Set<Thread> started = selectors();
    started.removeAll(selectorsBefore);
    assertThat(started).as("the cluster's selector thread").hasSize(1);
    Thread selector = started.iterator().next();
    cluster.close();
    selector.join(TimeUnit.SECONDS.toMillis(30));
    assertThat(selector.isAlive()).isFalse();
  }

  private static Set<Thread> selectors() {
    Set<Thread> selectors = new HashSet<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().startsWith("TAsyncClientManager")) {
        selectors.add(t);
      }
    }
    return selectors;
  }
}
