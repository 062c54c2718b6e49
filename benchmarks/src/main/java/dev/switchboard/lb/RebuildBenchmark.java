package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
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
 * The cost of rebuilding a picker on a membership change (one member leaves or comes back), as the
 * cluster's executor pays it. Weights as in {@link PickBenchmark}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 2, time = 1)
@Measurement(iterations = 3, time = 1)
@Fork(1)
@State(Scope.Benchmark)
public class RebuildBenchmark {
  @Param({"round_robin", "least_connections", "peak_ewma", "weighted_random", "consistent_hash"})
  String policy;

  @Param({"1000"})
  int members;

  BalancingPolicy balancingPolicy;
  Candidates all;
  Candidates oneLess;
  Picker previous;
  boolean flip;

  @Setup
  public void setUp() {
    balancingPolicy = PickBenchmark.policy(policy);
    all = PickBenchmark.candidates(members, new SplittableRandom(42));
    oneLess =
        Candidates.of(
            java.util.Arrays.copyOf(all.endpoints(), members - 1),
            java.util.Arrays.copyOf(all.weights(), members - 1));
    previous = balancingPolicy.newPicker(all, null);
  }

  @Benchmark
  public Picker rebuild() {
    flip = !flip;
    previous = balancingPolicy.newPicker(flip ? oneLess : all, previous);
    return previous;
  }
}
