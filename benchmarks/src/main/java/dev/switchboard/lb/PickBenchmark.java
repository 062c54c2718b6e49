package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.SplittableRandom;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The cost of one pick per policy and member count, beside two bare baselines: an {@code
 * AtomicInteger} modulo pick (grpc-java's round robin, and the physical floor of a shared counter)
 * and a bare power of two choices over a plain in-flight array.
 *
 * <p>Inputs are built once per trial: members weighted 100 except every fourth one, which is in
 * slow start (weight 50..99), so the weighted paths are measured; 0..3 calls in flight each; a
 * latency recorded at the pick time (so the EWMA needs no decay). Consistent-hash calls carry keys
 * from a pre-built array indexed with a mask (as Caffeine's GetPutBenchmark); the other policies
 * get {@link CallContext#DEFAULT}. Run it as described in benchmarks/README.md.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
public class PickBenchmark {
  static final int KEYS = 1 << 12;
  static final int MASK = KEYS - 1;
  static final long NOW = 10_000_000_000L;

  /** A policy's picker over {@code members} endpoints. */
  @State(Scope.Benchmark)
  public static class Policies {
    @Param({"round_robin", "least_connections", "peak_ewma", "weighted_random", "consistent_hash"})
    String policy;

    @Param({"3", "100", "1000"})
    int members;

    Picker picker;
    boolean keyed;
    CallContext[] contexts;

    @Setup
    public void setUp() {
      Candidates candidates = candidates(members, new SplittableRandom(42));
      picker = policy(policy).newPicker(candidates, null);
      keyed = policy.equals("consistent_hash");
      SplittableRandom random = new SplittableRandom(7);
      contexts = new CallContext[KEYS];
      for (int i = 0; i < KEYS; i++) {
        contexts[i] = CallContext.builder().hashKey(random.nextLong()).build();
      }
    }
  }

  /** Each benchmark thread's position in the key array. */
  @State(Scope.Thread)
  public static class Cursor {
    int index;
  }

  /** Endpoints and load for the baselines. */
  @State(Scope.Benchmark)
  public static class Bare {
    @Param({"3", "100", "1000"})
    int members;

    Endpoint[] endpoints;
    int[] inFlight;
    final AtomicInteger counter = new AtomicInteger();

    @Setup
    public void setUp() {
      endpoints = candidates(members, new SplittableRandom(42)).endpoints();
      inFlight = new int[members];
      for (int i = 0; i < members; i++) {
        inFlight[i] = endpoints[i].inFlight();
      }
    }
  }

  @Benchmark
  public PickResult pick(Policies p, Cursor c) {
    CallContext ctx = p.keyed ? p.contexts[c.index++ & MASK] : CallContext.DEFAULT;
    return p.picker.pick(ctx, NOW);
  }

  /** grpc-java's round robin: one shared counter, {@code & MAX_VALUE} then modulo. */
  @Benchmark
  public PickResult baselineAtomicModulo(Bare b) {
    Endpoint[] es = b.endpoints;
    return es[(b.counter.getAndIncrement() & Integer.MAX_VALUE) % es.length].asPickResult();
  }

  /**
   * The floor for power of two choices: two distinct members from one random draw (high and low
   * word, multiply-shift), the one with fewer calls in flight in a plain int array, selected
   * without branches (a branch on a random comparison mispredicts half the time).
   */
  @Benchmark
  public PickResult baselineBareP2c(Bare b) {
    Endpoint[] es = b.endpoints;
    int[] load = b.inFlight;
    int n = es.length;
    long r = ThreadLocalRandom.current().nextLong();
    int x = (int) (((r >>> 32) * n) >>> 32);
    int y = (int) (((r & 0xFFFF_FFFFL) * (n - 1)) >>> 32);
    y += (x - y - 1) >>> 31; // skip x
    int preferY = (load[y] - load[x]) >> 31; // -1 if y carries fewer calls
    return es[x ^ ((x ^ y) & preferY)].asPickResult();
  }

  static BalancingPolicy policy(String name) {
    return switch (name) {
      case "round_robin" -> BalancingPolicy.roundRobin();
      case "least_connections" -> BalancingPolicy.leastConnections();
      case "peak_ewma" -> BalancingPolicy.peakEwma();
      case "weighted_random" -> BalancingPolicy.weightedRandom();
      case "consistent_hash" -> BalancingPolicy.consistentHash();
      default -> throw new IllegalArgumentException("unknown policy " + name);
    };
  }

  /** {@code n} endpoints: weight 100, every fourth in slow start; some load and latency. */
  static Candidates candidates(int n, SplittableRandom random) {
    Endpoint[] es = new Endpoint[n];
    int[] weights = new int[n];
    for (int i = 0; i < n; i++) {
      weights[i] = i % 4 == 3 ? 50 + random.nextInt(50) : 100;
      es[i] = TestEndpoints.create(10_000 + i, 100);
      TestEndpoints.hold(es[i], random.nextInt(4));
      TestEndpoints.record(es[i], Outcome.SUCCESS, 1_000_000 + random.nextInt(4_000_000), NOW);
    }
    return Candidates.of(es, weights);
  }
}
