package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * 8 threads × 1M acquire/release while another thread churns membership: in-flight never goes
 * negative, no lease is granted on a closed endpoint, every removed endpoint is closed exactly once
 * (after its last lease), and in-flight is back to 0 at the end.
 */
class ClusterConcurrencyTest {
  private static final int THREADS = 8;
  private static final int CALLS = 1_000_000;

  @ParameterizedTest
  @ValueSource(strings = {"round_robin", "least_connections", "peak_ewma"})
  void acquireRelease_underChurn_countersConsistent(String policyName) throws Exception {
    BalancingPolicy policy =
        switch (policyName) {
          case "round_robin" -> BalancingPolicy.roundRobin();
          case "least_connections" -> BalancingPolicy.leastConnections();
          default -> BalancingPolicy.peakEwma();
        };
    StaticRegistry registry = new StaticRegistry();
    for (int i = 0; i < 6; i++) {
      registry.add(ClusterFixture.instance(9001 + i));
    }
    Set<Endpoint> seen = ConcurrentHashMap.newKeySet();
    Map<Endpoint, Integer> closedCount = new ConcurrentHashMap<>();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Cluster cluster =
        Cluster.builder(ClusterFixture.SERVICE)
            .registry(registry)
            .policy(policy)
            .updateDebounce(Duration.ZERO)
            .massRemovalGuard(100, Duration.ofSeconds(1))
            .outlierDetection(OutlierDetection.disabled())
            .disableCircuitBreaker()
            .listener(
                new ClusterListener() {
                  @Override
                  public void endpointRemoved(Endpoint endpoint) {
                    closedCount.merge(endpoint, 1, Integer::sum);
                  }
                })
            .build();
    AtomicBoolean done = new AtomicBoolean();
    AtomicLong negative = new AtomicLong();
    AtomicLong completed = new AtomicLong();
    CountDownLatch start = new CountDownLatch(1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      Thread w =
          new Thread(
              () -> {
                try {
                  start.await();
                  ThreadLocalRandom rnd = ThreadLocalRandom.current();
                  for (int i = 0; i < CALLS; i++) {
                    Lease lease = cluster.acquire();
                    Endpoint e = lease.endpoint();
                    seen.add(e);
                    if (e.inFlight() <= 0) {
                      negative.incrementAndGet();
                    }
                    if (e.isClosed()) {
                      failure.compareAndSet(null, new AssertionError("lease on closed " + e));
                    }
                    int r = rnd.nextInt(16);
                    if (r == 0) {
                      lease.close();
                    } else {
                      lease.complete(r == 1 ? Outcome.TIMEOUT : Outcome.SUCCESS, 1000 + r);
                    }
                    completed.incrementAndGet();
                  }
                } catch (Throwable ex) {
                  failure.compareAndSet(null, ex);
                }
              },
              "caller-" + t);
      workers.add(w);
      w.start();
    }
    Thread churn =
        new Thread(
            () -> {
              try {
                start.await();
                long next = 0;
                for (int n = 2; !done.get(); n++) {
                  // One membership change per 5,000 calls: ~1,600 changes over the run.
                  next += 5_000;
                  while (completed.get() < next && !done.get()) {
                    Thread.onSpinWait();
                  }
                  registry.add(ClusterFixture.instance(10_000 + n % 20_000));
                  registry.remove(
                      ClusterFixture.SERVICE, "127.0.0.1:" + (10_000 + (n - 2) % 20_000));
                }
              } catch (Throwable ex) {
                failure.compareAndSet(null, ex);
              }
            },
            "churn");
    churn.start();
    start.countDown();
    for (Thread w : workers) {
      w.join();
    }
    done.set(true);
    churn.join();

    assertThat(failure.get()).isNull();
    assertThat(negative.get()).isZero();
    assertThat(completed.get()).isEqualTo((long) THREADS * CALLS);
    for (Endpoint e : seen) {
      assertThat(e.inFlight()).as("in flight on %s", e).isZero();
    }
    for (Map.Entry<Endpoint, Integer> c : closedCount.entrySet()) {
      assertThat(c.getValue()).as("closed once: %s", c.getKey()).isEqualTo(1);
    }
    cluster.close();
    for (Endpoint e : seen) {
      assertThat(e.isClosed()).as("closed after cluster close: %s", e).isTrue();
    }
    assertThat(closedCount.keySet()).containsAll(seen);
  }
}
