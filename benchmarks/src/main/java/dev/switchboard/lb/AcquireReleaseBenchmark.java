package dev.switchboard.lb;

import dev.switchboard.lb.Call.Attempt;
import dev.switchboard.lb.metrics.ClusterMetrics;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * One full call's worth of balancer work: {@code acquire()} then {@code complete(SUCCESS)} (pick,
 * in-flight up and down, latency average, breaker record, two ticker reads), and the same through
 * the call engine ({@link #callThroughEngine}, which adds the retry-budget deposit and a {@code
 * Call}). With {@code -p listener=none,trace,metrics}, also the cost of the per-call hook: none
 * installed (the default), a {@link DecisionTrace} with its logger below DEBUG (slf4j-simple's
 * default INFO), or {@link ClusterMetrics} timing every call on a {@link SimpleMeterRegistry}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class AcquireReleaseBenchmark {
  @Param({"round_robin", "least_connections", "peak_ewma"})
  public String policy;

  @Param({"3", "100"})
  public int members;

  /** "default": the cluster's default circuit breaker; "off": breakers disabled. */
  @Param({"default", "off"})
  public String breaker;

  /** "none", "trace" or "metrics": see the class comment. */
  @Param({"none"})
  public String listener;

  private Cluster cluster;
  private ClusterMetrics metrics;

  @Setup(Level.Trial)
  public void setUp() {
    StaticRegistry registry = new StaticRegistry();
    for (int i = 0; i < members; i++) {
      registry.add(ServiceInstance.builder("bench", "127.0.0.1", 10_000 + i).build());
    }
    BalancingPolicy p =
        switch (policy) {
          case "round_robin" -> BalancingPolicy.roundRobin();
          case "least_connections" -> BalancingPolicy.leastConnections();
          default -> BalancingPolicy.peakEwma();
        };
    Cluster.Builder b = Cluster.builder("bench").registry(registry).policy(p);
    if (breaker.equals("off")) {
      b.disableCircuitBreaker();
    }
    switch (listener) {
      case "none", "metrics" -> {}
      case "trace" -> b.listener(DecisionTrace.create());
      default -> throw new IllegalArgumentException("listener must be none, trace or metrics");
    }
    cluster = b.build();
    if (listener.equals("metrics")) {
      metrics = ClusterMetrics.bind(cluster, new SimpleMeterRegistry());
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    if (metrics != null) {
      metrics.close();
    }
    cluster.close();
  }

  private static final Attempt<Lease, RuntimeException> ANSWER = lease -> lease;

  /**
   * One logical call through the call engine ({@code Cluster.newCall(...).run(...)}): the retry
   * budget's deposit, a {@code Call}, then the same acquire and release; what the Thrift and HTTP
   * integrations pay per call on top of their I/O.
   */
  @Benchmark
  public Lease callThroughEngine() {
    return cluster.newCall(CallContext.DEFAULT).run(ANSWER);
  }

  @Benchmark
  public Lease acquireAndRelease() {
    Lease lease = cluster.acquire();
    lease.complete(Outcome.SUCCESS);
    return lease;
  }
}
