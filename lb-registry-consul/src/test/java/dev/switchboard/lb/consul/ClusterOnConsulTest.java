package dev.switchboard.lb.consul;

import static dev.switchboard.lb.consul.TestConsul.instance;
import static dev.switchboard.lb.consul.TestConsul.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.LineServer;
import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.consul.testing.ConsulStandIn;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** A {@link Cluster} fed by ConsulRegistry, under agent faults and a member leaving mid-load. */
class ClusterOnConsulTest {
  private static final String A = "127.0.0.1:9001";
  private static final String B = "127.0.0.1:9002";
  private static final String C = "127.0.0.1:9003";
  private static final Duration HOLD = Duration.ofMillis(800);

  /** The stand-in's faults, each applied and then lifted. */
  enum Fault {
    SERVER_ERRORS(s -> s.failRequests(500), ConsulStandIn::clearFaults),
    CONNECTION_REFUSED(ConsulStandIn::stop, ConsulStandIn::resume),
    SLOW_RESPONSES(s -> s.delayResponses(Duration.ofSeconds(3)), ConsulStandIn::clearFaults),
    INDEX_GOES_BACKWARDS(ConsulStandIn::rewindIndex, s -> {}),
    INDEX_ZERO(s -> s.reportIndexZero(true), ConsulStandIn::clearFaults),
    MALFORMED_BODY(s -> s.healthBody("<html>502 Bad Gateway</html>"), ConsulStandIn::clearFaults),
    AGENT_RESTART(ConsulStandIn::restart, s -> {});

    final Consumer<ConsulStandIn> apply;
    final Consumer<ConsulStandIn> lift;

    Fault(Consumer<ConsulStandIn> apply, Consumer<ConsulStandIn> lift) {
      this.apply = apply;
      this.lift = lift;
    }
  }

  private ConsulStandIn standIn;
  private ExecutorService threads;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() {
    standIn = ConsulStandIn.start();
    threads = Executors.newCachedThreadPool();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    threads.shutdownNow();
    standIn.close();
  }

  private <T extends AutoCloseable> T track(T closeable) {
    closeables.add(0, closeable); // closed in reverse order
    return closeable;
  }

  private static Set<String> addresses(Cluster cluster) {
    return cluster.snapshot().endpoints().stream()
        .map(EndpointSnapshot::address)
        .collect(Collectors.toSet());
  }

  @ParameterizedTest
  @EnumSource(Fault.class)
  void agentFault_clusterKeepsMembers_leasesKeepSucceeding_watchNeverSpins_thenRecovers(Fault fault)
      throws Exception {
    ConsulRegistry registrant = track(registry(standIn.uri()).ttl(Duration.ofSeconds(5)).build());
    registrant.register(instance("echo", 9001));
    registrant.register(instance("echo", 9002));
    ConsulRegistry watching =
        track(registry(standIn.uri()).requestTimeout(Duration.ofMillis(500)).build());
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch = (ConsulWatch) watching.watch("echo", recorder);
    Cluster cluster = track(Cluster.builder("echo").registry(watching).build());
    recorder.awaitIds(A, B);
    await().atMost(Duration.ofSeconds(5)).until(() -> addresses(cluster).equals(Set.of(A, B)));

    AtomicBoolean stop = new AtomicBoolean();
    LongAdder acquired = new LongAdder();
    AtomicInteger failed = new AtomicInteger();
    List<Future<?>> callers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      callers.add(
          threads.submit(
              () -> {
                while (!stop.get()) {
                  try (Lease lease = cluster.acquire()) {
                    lease.complete(Outcome.SUCCESS);
                    acquired.increment();
                  } catch (RuntimeException e) {
                    failed.incrementAndGet();
                  }
                  LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200)); // pacing
                }
              }));
    }

    long sent = watch.requests();
    long faultAt = System.nanoTime();
    fault.apply.accept(standIn);
    await(fault + ": members kept, every lease granted")
        .during(HOLD)
        .atMost(HOLD.plusSeconds(3))
        .until(() -> addresses(cluster).equals(Set.of(A, B)) && failed.get() == 0);
    long queries = watch.requests() - sent;
    long faultMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - faultAt);
    String degraded = cluster.snapshot().registryProblem().orElse("-");

    fault.lift.accept(standIn);
    long liftedAt = System.nanoTime();
    registrant.register(instance("echo", 9003));
    await(fault + ": recovered, a new member seen")
        .atMost(Duration.ofSeconds(10))
        .until(
            () ->
                addresses(cluster).equals(Set.of(A, B, C))
                    && !cluster.snapshot().registryDegraded());
    long recoveredMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - liftedAt);
    stop.set(true);
    for (Future<?> caller : callers) {
      caller.get(10, TimeUnit.SECONDS);
    }

    System.out.printf(
        "[fault] %-20s %d ms: %d watch queries, cluster: %s; recovered (new member seen) %d ms"
            + " after lifting; %d leases, %d failed%n",
        fault, faultMillis, queries, degraded, recoveredMillis, acquired.sum(), failed.get());
    assertThat(failed.get()).as("failed acquires").isZero();
    assertThat(acquired.sum()).isPositive();
    assertThat(queries)
        .as("watch queries during the fault: never more than the rate limit allows")
        .isLessThanOrEqualTo(faultMillis / TestConsul.MIN_INTERVAL.toMillis() + 2);
  }

  @Test
  void memberDrainsThenDeregistersMidLoad_noFailedCalls() throws Exception {
    LineServer a = track(new LineServer());
    LineServer leaving = track(new LineServer());
    LineServer c = track(new LineServer());
    ConsulRegistry registrant = track(registry(standIn.uri()).build());
    Map<LineServer, Registration> registrations = new ConcurrentHashMap<>();
    for (LineServer server : List.of(a, leaving, c)) {
      registrations.put(
          server,
          registrant.register(
              ServiceInstance.builder("lines", "127.0.0.1", server.port()).build()));
    }
    String leavingAddress = "127.0.0.1:" + leaving.port();
    ConsulRegistry watching = track(registry(standIn.uri()).build());
    Cluster cluster =
        track(
            Cluster.builder("lines")
                .registry(watching)
                .policy(BalancingPolicy.roundRobin())
                .build());
    await().atMost(Duration.ofSeconds(5)).until(() -> addresses(cluster).size() == 3);

    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong calls = new AtomicLong();
    AtomicInteger failed = new AtomicInteger();
    Map<String, LongAdder> perAddress = new ConcurrentHashMap<>();
    List<Future<?>> callers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      callers.add(
          threads.submit(
              () -> {
                while (!stop.get()) {
                  try (Lease lease = cluster.acquire()) {
                    Outcome outcome = LineServer.call(lease.instance(), 1_000);
                    lease.complete(outcome);
                    perAddress
                        .computeIfAbsent(lease.instance().address(), k -> new LongAdder())
                        .increment();
                    if (outcome != Outcome.SUCCESS) {
                      failed.incrementAndGet();
                    }
                    calls.incrementAndGet();
                  } catch (RuntimeException e) {
                    failed.incrementAndGet();
                  }
                }
              }));
    }
    await().atMost(Duration.ofSeconds(5)).until(() -> calls.get() > 300);

    // The leaving server's shutdown sequence: drain, wait for clients to notice, deregister, stop.
    Registration registration = registrations.get(leaving);
    registration.drain();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                cluster
                    .snapshot()
                    .endpoint(leavingAddress)
                    .map(e -> e.eligibility() == Eligibility.DRAINING)
                    .orElse(false));
    long callsToLeavingAtDrain = perAddress.get(leavingAddress).sum();
    registration.close();
    await().atMost(Duration.ofSeconds(5)).until(() -> addresses(cluster).size() == 2);
    leaving.close();
    long callsAtStop = calls.get();
    await().atMost(Duration.ofSeconds(5)).until(() -> calls.get() > callsAtStop + 300);
    stop.set(true);
    for (Future<?> caller : callers) {
      caller.get(10, TimeUnit.SECONDS);
    }

    System.out.printf(
        "[deregister mid-load] %d calls, %d failed; per server %s%n",
        calls.get(),
        failed.get(),
        perAddress.entrySet().stream()
            .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().sum())));
    assertThat(failed.get()).as("failed calls").isZero();
    assertThat(perAddress.get(leavingAddress).sum())
        .as("calls to the leaving server after it was seen draining: only those in flight")
        .isLessThanOrEqualTo(callsToLeavingAtDrain + 4);
  }
}
