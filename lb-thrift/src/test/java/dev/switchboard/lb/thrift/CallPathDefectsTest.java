package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.SoftAssertions.assertSoftly;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.CallListener;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.NoHealthyEndpointException;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.RetryPolicy;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.UnaryOperator;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.transport.TTransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Regression tests for defects of the Thrift call path, written against public API only (cluster
 * builder, snapshots, {@link ThriftCluster#borrowTransport()}, {@link ThriftClients} proxies) so
 * they hold across a rewrite of the path. Each test states the behaviour the call path owes its
 * callers; see DEFECT-TESTS.md for how each fails on the code it was written against.
 */
class CallPathDefectsTest {
  private final StaticRegistry registry = new StaticRegistry();
  private final StallingEchoHandler.Gate gate = new StallingEchoHandler.Gate();
  private final List<ThriftServer> servers = new CopyOnWriteArrayList<>();
  private final List<ThriftCluster> clusters = new CopyOnWriteArrayList<>();
  private final MisbehavingPeers peers = new MisbehavingPeers();
  private ExecutorService caller;

  @AfterEach
  void tearDown() throws Exception {
    gate.release();
    if (caller != null) {
      caller.shutdownNow();
      caller.awaitTermination(10, TimeUnit.SECONDS);
    }
    for (ThriftCluster c : clusters) {
      c.close();
    }
    for (ThriftServer s : servers) {
      s.kill();
    }
    peers.close();
  }

  /** Starts {@code n} echo servers whose next call can be stalled with {@link #gate}. */
  private List<ThriftServer> startServers(int n) throws TTransportException {
    List<ThriftServer> started = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      StallingEchoHandler handler = new StallingEchoHandler(gate);
      ThriftServer server =
          ThriftServer.builder(handler, new Echo.Processor<>(handler))
              .host("127.0.0.1")
              .registry(registry)
              .port(0)
              .drain(Duration.ZERO, Duration.ofSeconds(1))
              .start();
      handler.identity(server.instance().address());
      servers.add(server);
      started.add(server);
    }
    return started;
  }

  private ThriftCluster cluster(
      UnaryOperator<Cluster.Builder> customizer, ThriftTransportConfig.Builder config) {
    ThriftCluster c =
        ThriftCluster.create(
            customizer.apply(
                Cluster.builder("echo")
                    .registry(registry)
                    .policy(BalancingPolicy.roundRobin())
                    .updateDebounce(Duration.ZERO)),
            config.warmUp(0, Duration.ZERO).build());
    clusters.add(c);
    return c;
  }

  private static ServiceInstance member(int port) {
    return ServiceInstance.builder("echo", "127.0.0.1", port).build();
  }

  private static Echo.Iface idempotentEcho(ThriftCluster cluster, Duration timeout) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .idempotent("echo")
        .timeout(timeout)
        .build();
  }

  // ---- 1. borrowTransport: a timed-out or garbled call must not hand its connection on ----------

  @Test
  void borrowTransport_readTimesOutAndCallerCloses_nextBorrowerGetsItsOwnReply_leaseNotSuccess()
      throws Exception {
    startServers(1);
    ThriftCluster thrift =
        cluster(
            b -> b.retryPolicy(RetryPolicy.none()),
            ThriftTransportConfig.builder().readTimeout(Duration.ofMillis(300)).pool(1, 1));

    gate.armOnce(); // the server holds caller 1's reply until released
    LeasedTransport first = thrift.borrowTransport();
    Echo.Client client1 = new Echo.Client(first.protocol());
    assertThatThrownBy(() -> client1.echo("reply meant for caller 1"))
        .isInstanceOf(TTransportException.class)
        .hasMessageContaining("timed out");
    assertThat(gate.awaitEntered(Duration.ofSeconds(10))).isTrue();
    first.close();
    gate.release(); // caller 1's reply is now on its way, to whoever holds that connection

    LeasedTransport second = thrift.borrowTransport();
    String reply;
    try {
      reply = new Echo.Client(second.protocol()).echo("caller 2's own message");
    } finally {
      second.close();
    }
    Outcome firstOutcome = first.lease().outcome();
    System.out.printf(
        "[borrowTransport timeout] caller 1 lease finished as %s; caller 2 got '%s'; pool %s%n",
        firstOutcome, reply, thrift.poolStats());
    assertSoftly(
        s -> {
          s.assertThat(reply).as("caller 2's reply").isEqualTo("caller 2's own message");
          s.assertThat(firstOutcome).as("caller 1's lease outcome").isEqualTo(Outcome.TIMEOUT);
        });
  }

  @Test
  void borrowTransport_protocolErrorMidCall_connectionNotPooled_leaseNotSuccess() throws Exception {
    registry.add(member(peers.garbage()));
    ThriftCluster thrift =
        cluster(
            b -> b.retryPolicy(RetryPolicy.none()),
            ThriftTransportConfig.builder().readTimeout(Duration.ofSeconds(2)).pool(1, 1));

    LeasedTransport transport = thrift.borrowTransport();
    Echo.Client client = new Echo.Client(transport.protocol());
    assertThatThrownBy(() -> client.echo("hello")).isInstanceOf(TProtocolException.class);
    transport.close();

    Outcome outcome = transport.lease().outcome();
    PoolStats pool = thrift.poolStats();
    System.out.printf(
        "[borrowTransport garbage] lease finished as %s; pool after close %s%n", outcome, pool);
    assertSoftly(
        s -> {
          s.assertThat(pool.idle()).as("garbled connection kept idle for reuse").isZero();
          s.assertThat(outcome).as("lease outcome").isNotEqualTo(Outcome.SUCCESS);
          s.assertThat(outcome.isEndpointFailure()).as("counted against the endpoint").isTrue();
        });
  }

  // ---- 2. An interrupted caller is the caller's doing, not the endpoints' ----------------------

  @Test
  void proxy_callerThreadInterruptedBeforeEachCall_callsFail_noEndpointCharged() throws Exception {
    startServers(3);
    ThriftCluster thrift =
        cluster(
            b -> b,
            ThriftTransportConfig.builder()
                .connectTimeout(Duration.ofMillis(500))
                .readTimeout(Duration.ofSeconds(5)));
    Echo.Iface echo = idempotentEcho(thrift, Duration.ofSeconds(2));
    for (int i = 0; i < 6; i++) {
      assertThat(echo.echo("warm " + i)).isEqualTo("warm " + i); // pooled connections to all 3
    }

    caller = Executors.newSingleThreadExecutor(r -> new Thread(r, "interrupted-caller"));
    List<Throwable> errors =
        caller
            .submit(
                () -> {
                  List<Throwable> thrown = new ArrayList<>();
                  for (int i = 0; i < 10; i++) {
                    Thread.currentThread().interrupt();
                    try {
                      echo.echo("interrupted " + i);
                    } catch (Throwable t) {
                      thrown.add(t);
                    }
                  }
                  Thread.interrupted(); // leave the pool thread clean
                  return thrown;
                })
            .get(30, TimeUnit.SECONDS);

    ClusterSnapshot snapshot = thrift.cluster().snapshot();
    printSnapshot("interrupted caller", snapshot);
    System.out.println("[interrupted caller] failures thrown: " + kinds(errors));
    assertThat(errors).as("every interrupted call fails").hasSize(10);
    assertEndpointsUncharged(snapshot);
  }

  @Test
  void proxy_callerInterruptedWhileAwaitingReply_callEndsPromptly_noEndpointCharged()
      throws Exception {
    startServers(3);
    ThriftCluster thrift =
        cluster(
            b -> b,
            ThriftTransportConfig.builder()
                .connectTimeout(Duration.ofMillis(500))
                .readTimeout(Duration.ofSeconds(10)));
    Echo.Iface echo = idempotentEcho(thrift, Duration.ofSeconds(10));
    for (int i = 0; i < 6; i++) {
      assertThat(echo.echo("warm " + i)).isEqualTo("warm " + i);
    }

    caller = Executors.newSingleThreadExecutor(r -> new Thread(r, "cancelled-caller"));
    AtomicReference<Thread> callerThread = new AtomicReference<>();
    gate.armOnce();
    Future<String> call =
        caller.submit(
            () -> {
              callerThread.set(Thread.currentThread());
              try {
                return echo.echo("slow reply");
              } finally {
                Thread.interrupted();
              }
            });
    assertThat(gate.awaitEntered(Duration.ofSeconds(10))).as("call reached a server").isTrue();
    long interruptedAt = System.nanoTime();
    callerThread.get().interrupt();
    Throwable failure = null;
    try {
      call.get(20, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      failure = e.getCause();
    }
    long endedMillis = (System.nanoTime() - interruptedAt) / 1_000_000;
    gate.release();

    ClusterSnapshot snapshot = thrift.cluster().snapshot();
    printSnapshot("interrupted mid-call", snapshot);
    System.out.printf(
        "[interrupted mid-call] call ended %d ms after the interrupt with %s%n",
        endedMillis, failure);
    assertThat(failure).as("the interrupted call fails").isNotNull();
    assertThat(endedMillis).as("ms from interrupt to failure").isLessThan(2_000);
    assertEndpointsUncharged(snapshot);
  }

  private static void assertEndpointsUncharged(ClusterSnapshot snapshot) {
    assertSoftly(
        s -> {
          s.assertThat(snapshot.panic()).as("panic").isFalse();
          for (EndpointSnapshot e : snapshot.endpoints()) {
            s.assertThat(e.failures()).as(e.address() + " failures").isZero();
            s.assertThat(e.breakerState())
                .as(e.address() + " breaker")
                .isEqualTo(CircuitBreaker.State.CLOSED);
            s.assertThat(e.eligibility())
                .as(e.address() + " eligibility")
                .isEqualTo(Eligibility.ELIGIBLE);
          }
        });
  }

  // ---- 3. The call's deadline bounds connecting, not only reading ------------------------------

  @Test
  void proxy_onlyMemberBlackHolesConnects_callFailsWithinItsDeadline() throws Exception {
    registry.add(member(peers.blackHole()));
    ThriftCluster thrift =
        cluster(
            b -> b,
            ThriftTransportConfig.builder()
                .connectTimeout(Duration.ofSeconds(5))
                .readTimeout(Duration.ofSeconds(5)));
    Echo.Iface echo = idempotentEcho(thrift, Duration.ofMillis(200));

    long start = System.nanoTime();
    Throwable failure = catchFailure(() -> echo.echo("into the void"));
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf(
        "[black-holed connect] 200 ms deadline, 5 s connect timeout: failed after %d ms with %s%n",
        elapsedMillis, failure);
    assertThat(failure).isNotNull();
    assertThat(elapsedMillis).as("ms until a 200 ms call failed").isLessThan(1_500);
  }

  @Test
  void proxy_tlsMemberNeverAnswersHandshake_callFailsWithinItsDeadline(@TempDir Path dir)
      throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    registry.add(member(peers.silent()));
    ThriftCluster thrift =
        cluster(
            b -> b,
            ThriftTransportConfig.builder()
                .tls(certs.client(), true)
                .connectTimeout(Duration.ofSeconds(5))
                .readTimeout(Duration.ofSeconds(5)));
    Echo.Iface echo = idempotentEcho(thrift, Duration.ofMillis(200));

    long start = System.nanoTime();
    Throwable failure = catchFailure(() -> echo.echo("hello?"));
    long elapsedMillis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf(
        "[silent TLS handshake] 200 ms deadline, 5 s connect timeout: failed after %d ms with %s%n",
        elapsedMillis, failure);
    assertThat(failure).isNotNull();
    assertThat(elapsedMillis).as("ms until a 200 ms call failed").isLessThan(1_500);
  }

  // ---- 4. A total outage fails calls fast, saying why ------------------------------------------

  @Test
  void proxy_everyMemberRefusesConnections_callsFailFastWithNoHealthyEndpointNamingEachMember()
      throws Exception {
    List<String> addresses = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      ServiceInstance m = member(MisbehavingPeers.refusedPort());
      registry.add(m);
      addresses.add(m.address());
    }
    AttemptCounter attempts = new AttemptCounter();
    ThriftCluster thrift =
        cluster(
            b -> b.listener(attempts),
            ThriftTransportConfig.builder()
                .connectTimeout(Duration.ofMillis(500))
                .readTimeout(Duration.ofSeconds(5)));
    Echo.Iface echo = idempotentEcho(thrift, Duration.ofSeconds(2));
    for (int i = 0; i < 50; i++) {
      String message = "warm-up " + i;
      assertThat(catchFailure(() -> echo.echo(message))).isNotNull();
    }
    long warmUpAttempts = attempts.started.sum();

    Map<String, Integer> kinds = new TreeMap<>();
    Throwable firstOther = null;
    NoHealthyEndpointException lastNoHealthy = null;
    long start = System.nanoTime();
    for (int i = 0; i < 100; i++) {
      Throwable t = catchFailure(() -> echo.echo("outage"));
      kinds.merge(t == null ? "none" : t.getClass().getSimpleName(), 1, Integer::sum);
      if (t instanceof NoHealthyEndpointException n) {
        lastNoHealthy = n;
      } else if (firstOther == null) {
        firstOther = t;
      }
    }
    double avgMillis = (System.nanoTime() - start) / 1e6 / 100;
    long attemptsIn100 = attempts.started.sum() - warmUpAttempts;
    ClusterSnapshot snapshot = thrift.cluster().snapshot();
    printSnapshot("total outage", snapshot);
    System.out.printf(
        "[total outage] after 50 warm-up calls (%d attempts): 100 calls took %.2f ms on average,"
            + " made %d attempts (connects), ended %s; first other failure: %s%n",
        warmUpAttempts, avgMillis, attemptsIn100, kinds, firstOther);

    // Every member's breaker is open after the refusals: calls fail fast without a connect (panic
    // mode no longer overrides open breakers). When a breaker's wait runs out (5 s), its half-open
    // probes make a few connects, so a slow machine may see some; never one per call.
    assertThat(attemptsIn100).as("connects made by 100 calls").isLessThanOrEqualTo(9);
    assertThat(kinds.getOrDefault("NoHealthyEndpointException", 0))
        .as("calls failed fast")
        .isGreaterThanOrEqualTo(100 - (int) attemptsIn100);
    assertThat(kinds.keySet())
        .as("how the 100 calls ended")
        .isSubsetOf("NoHealthyEndpointException", "ConnectFailedException");
    for (String address : addresses) {
      assertThat(lastNoHealthy.getMessage()).contains(address);
    }
    assertThat(avgMillis).as("average ms per call").isLessThan(100);
  }

  // ---- 7. A frozen (SIGSTOPped) server costs no idempotent call --------------------------------

  @Test
  void frozenServerProcess_sigstoppedFourSeconds_withoutHedging_noCallFails_itLeavesRotation()
      throws Exception {
    List<ServerProcess> processes = new ArrayList<>();
    try (ThriftFixture f = new ThriftFixture()) {
      for (int i = 0; i < 3; i++) {
        ServerProcess p = ServerProcess.start();
        processes.add(p);
        f.registry.add(member(p.port));
      }
      AttemptCounter attempts = new AttemptCounter();
      ThriftCluster thrift =
          f.cluster(BalancingPolicy.leastConnections(), b -> b.listener(attempts));
      assertThat(thrift.transportConfig().readTimeout()).isEqualTo(Duration.ofSeconds(5));
      // Without hedging (by default a hedge after the p99 rescues each call to the frozen server,
      // which then stays in rotation, costing those calls the p99): read timeouts must eject it.
      Echo.Iface echo =
          ThriftClients.builder(Echo.Iface.class, Echo.Client::new, thrift)
              .idempotent("echo")
              .noHedging()
              .timeout(Duration.ofSeconds(2))
              .build();
      LoadDriver load = new LoadDriver(8, () -> echo.echo("ping"));
      try {
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> load.total() >= 2000 && attempts.byAddress.size() == 3);
        ServerProcess victim = processes.get(0);
        String address = "127.0.0.1:" + victim.port;

        signal(victim.process, "STOP");
        long frozenAt = System.nanoTime();
        AtomicBoolean leftRotation = new AtomicBoolean();
        AtomicLong startsAtHalfway = new AtomicLong(-1);
        try {
          // Hold the freeze for 4 s of clock time, sampling the victim's state meanwhile.
          await()
              .atMost(Duration.ofSeconds(10))
              .pollInterval(Duration.ofMillis(20))
              .until(
                  () -> {
                    EndpointSnapshot e =
                        thrift.cluster().snapshot().endpoint(address).orElseThrow();
                    if (e.eligibility() != Eligibility.ELIGIBLE
                        || e.breakerState() != CircuitBreaker.State.CLOSED) {
                      leftRotation.set(true);
                    }
                    long frozenFor = System.nanoTime() - frozenAt;
                    if (frozenFor >= 2_000_000_000L) {
                      startsAtHalfway.compareAndSet(-1, attempts.startsOn(address));
                    }
                    return frozenFor >= 4_000_000_000L;
                  });
        } finally {
          signal(victim.process, "CONT");
        }
        long startsInSecondHalf = attempts.startsOn(address) - startsAtHalfway.get();
        long mark = load.total();
        await().atMost(Duration.ofSeconds(60)).until(() -> load.total() >= mark + 2000);
        load.close();

        System.out.println(load.summary("SIGSTOP 1 of 3 server processes for 4 s, 8 callers"));
        System.out.printf(
            "[SIGSTOP] victim seen out of rotation: %s; calls started on it in the 2nd half of the"
                + " freeze: %d; attempts per endpoint %s; failures: %s%n",
            leftRotation.get(), startsInSecondHalf, attempts.byAddress, load.failures);
        assertSoftly(
            s -> {
              s.assertThat(load.failed.get()).as("failed idempotent calls").isZero();
              s.assertThat(leftRotation.get() || startsInSecondHalf == 0)
                  .as("frozen endpoint left rotation (ejected/breaker open, or no new calls)")
                  .isTrue();
            });
      } finally {
        load.close();
      }
    } finally {
      for (ServerProcess p : processes) {
        signal(p.process, "CONT");
        p.close();
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** Sends {@code SIGname} to {@code process} with kill(1). */
  private static void signal(Process process, String name)
      throws IOException, InterruptedException {
    if (!process.isAlive()) {
      return;
    }
    Process kill =
        new ProcessBuilder("kill", "-" + name, Long.toString(process.pid()))
            .redirectErrorStream(true)
            .start();
    assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
    assertThat(kill.exitValue()).as("kill -" + name + " exit status").isZero();
  }

  @FunctionalInterface
  private interface Call {
    void run() throws Exception;
  }

  private static Throwable catchFailure(Call call) {
    try {
      call.run();
      return null;
    } catch (Throwable t) {
      return t;
    }
  }

  private static Map<String, Integer> kinds(List<Throwable> errors) {
    Map<String, Integer> kinds = new TreeMap<>();
    for (Throwable t : errors) {
      kinds.merge(t.getClass().getSimpleName(), 1, Integer::sum);
    }
    return kinds;
  }

  private static void printSnapshot(String label, ClusterSnapshot snapshot) {
    StringBuilder sb = new StringBuilder("[" + label + "] panic=" + snapshot.panic());
    for (EndpointSnapshot e : snapshot.endpoints()) {
      sb.append(
          String.format(
              "%n  %s calls=%d failures=%d breaker=%s %s",
              e.address(), e.calls(), e.failures(), e.breakerState(), e.eligibility()));
    }
    System.out.println(sb);
  }

  /** Counts the leases (attempts) the cluster starts, per endpoint address. */
  private static final class AttemptCounter implements ClusterListener, CallListener {
    final LongAdder started = new LongAdder();
    final Map<String, LongAdder> byAddress = new ConcurrentHashMap<>();

    @Override
    public void callStarted(Lease lease, Candidates candidates) {
      started.increment();
      byAddress.computeIfAbsent(lease.endpoint().address(), a -> new LongAdder()).increment();
    }

    long startsOn(String address) {
      LongAdder n = byAddress.get(address);
      return n == null ? 0 : n.sum();
    }
  }
}
