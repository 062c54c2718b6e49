package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.Arrays;
import java.util.Objects;
import java.util.function.BiFunction;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/**
 * How a cluster spreads calls over its eligible endpoints: a factory of immutable {@link Picker}s,
 * asked for a new picker each time the candidates change.
 *
 * <p>Implementations must be thread-safe; {@link #newPicker} is called only on a cluster's serial
 * executor, so one policy instance may serve several clusters.
 */
public interface BalancingPolicy {

  /** A short name for logs and snapshots, such as {@code "round_robin"}. */
  String name();

  /**
   * Builds a picker over {@code candidates} (never empty).
   *
   * @param previous the picker this one replaces, or null for a cluster's first picker; a policy
   *     may carry state over from it (a round-robin cursor, say) so that a rebuild does not reset
   *     the sequence
   */
  Picker newPicker(Candidates candidates, @Nullable Picker previous);

  /**
   * Smooth weighted round robin, as nginx: with weights 5:1:1 the order is a a b a c a a, with no
   * bursts. Each client starts at a random offset, so clients restarted together do not all hit the
   * same first endpoint.
   */
  static BalancingPolicy roundRobin() {
    return of("round_robin", RoundRobinPicker::create);
  }

  /**
   * Least connections by power of two choices: two distinct candidates sampled at random, the one
   * with fewer in-flight calls per unit of weight wins.
   */
  static BalancingPolicy leastConnections() {
    return of("least_connections", LeastConnectionsPicker::create);
  }

  /**
   * Latency-aware power of two choices (Finagle's and Linkerd's peak EWMA): the candidate with the
   * lower latency × (in-flight + 1) per unit of weight wins. Failures count as slow calls, so an
   * endpoint that fails fast does not attract traffic.
   */
  static BalancingPolicy peakEwma() {
    return of("peak_ewma", PeakEwmaPicker::create);
  }

  /**
   * Prequal: picks by the servers' own reports of requests in flight and latency, which {@code
   * prober} asks for off the call path; least connections where no report is at hand. The {@link
   * Prequal} defaults; {@link Prequal#builder} configures the probing.
   */
  static BalancingPolicy prequal(Prequal.Prober prober) {
    return Prequal.builder(prober).build();
  }

  /**
   * Prequal probing over UDP ({@link LoadProbes#shared()}): members that publish {@link
   * LoadProbes#METADATA_KEY} (Switchboard's servers do) are probed, the others are picked by least
   * connections.
   */
  static BalancingPolicy prequal() {
    return prequal(LoadProbes.shared());
  }

  /** Random choice in proportion to weight. */
  static BalancingPolicy weightedRandom() {
    return of("weighted_random", WeightedRandomPicker::create);
  }

  /**
   * Consistent hashing on {@link CallContext#hashKey()} over a weighted hash ring: when one of N
   * members leaves, only about 1/N of the keys move. Calls without a key are spread at random.
   */
  static BalancingPolicy consistentHash() {
    return of("consistent_hash", RingHashPicker::create);
  }

  /**
   * Consistent hashing on a key computed from the call context, for callers that keep their key
   * elsewhere than {@link CallContext#hashKey()}.
   */
  static BalancingPolicy consistentHash(ToLongFunction<CallContext> keyFunction) {
    Objects.requireNonNull(keyFunction, "keyFunction");
    return of(
        "consistent_hash",
        (candidates, previous) -> RingHashPicker.create(candidates, previous, keyFunction));
  }

  /** A policy named {@code name} whose pickers {@code factory} builds. */
  static BalancingPolicy of(String name, BiFunction<Candidates, @Nullable Picker, Picker> factory) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(factory, "factory");
    return new BalancingPolicy() {
      @Override
      public String name() {
        return name;
      }

      @Override
      public Picker newPicker(Candidates candidates, @Nullable Picker previous) {
        return factory.apply(candidates, previous);
      }

      @Override
      public String toString() {
        return name;
      }
    };
  }

  /**
   * Chooses one endpoint per call from an immutable set of {@link Candidates}. A picker is built on
   * the cluster's serial executor and then used concurrently by every caller until the next rebuild
   * replaces it.
   *
   * <p>Implementations must be thread-safe, must never block or take a lock, should allocate
   * nothing, and must skip candidates the call has excluded ({@link PickArgs#isExcluded}) while
   * another candidate exists. They never return null: {@link PickResult#none()} when nothing is
   * available.
   */
  @FunctionalInterface
  interface Picker {

    /**
     * Picks an endpoint for one call.
     *
     * @param args the call; its exclusions must be honoured
     * @param nowNanos the cluster ticker's reading for this call (read once by the caller)
     */
    PickResult pick(PickArgs args, long nowNanos);
  }

  /**
   * What a {@link dev.switchboard.lb.BalancingPolicy.Picker} may know about the call it picks for:
   * the call's {@link CallContext} and the endpoints the call must avoid while another candidate
   * exists (tried by its earlier attempts, or refused during this pick). grpc-java's {@code
   * PickSubchannelArgs}.
   *
   * <p>A {@link CallContext} is itself the arguments of a call that excludes nothing. The call
   * engine ({@link Call}) implements this for its attempts. Implementations are read by one picking
   * thread at a time.
   */
  interface PickArgs {
    /** The call's immutable context: hash key, deadline, idempotence, attributes. */
    CallContext context();

    /** Whether the pick must avoid {@code endpoint} while another candidate exists. */
    boolean isExcluded(Endpoint endpoint);

    /** How many endpoints the pick must avoid; 0 lets pickers skip {@link #isExcluded}. */
    int excludedCount();
  }

  /**
   * The result of one pick: an endpoint, or none because every candidate was unavailable
   * (saturated, already tried by this call, or no candidates at all). Never null; an endpoint's
   * result is made once and reused, so picking allocates nothing (grpc-java's {@code PickResult}
   * shape).
   *
   * <p>Immutable and thread-safe.
   */
  final class PickResult {
    private static final PickResult NONE = new PickResult(null);

    private final Endpoint endpoint;

    private PickResult(Endpoint endpoint) {
      this.endpoint = endpoint;
    }

    static PickResult of(Endpoint endpoint) {
      return new PickResult(endpoint);
    }

    /** The result of a pick that found no available candidate. */
    public static PickResult none() {
      return NONE;
    }

    public boolean hasEndpoint() {
      return endpoint != null;
    }

    /**
     * The picked endpoint.
     *
     * @throws IllegalStateException if this result holds none
     */
    public Endpoint endpoint() {
      if (endpoint == null) {
        throw new IllegalStateException("no endpoint was picked");
      }
      return endpoint;
    }

    @Override
    public String toString() {
      return endpoint == null ? "PickResult{none}" : "PickResult{" + endpoint.address() + "}";
    }
  }

  /**
   * The endpoints a picker chooses among, with their effective weights (registered weight scaled by
   * slow start; always at least 1). Built by the cluster each time eligibility changes.
   *
   * <p>Immutable and thread-safe; the arrays are never exposed.
   */
  final class Candidates {
    private final Endpoint[] endpoints;
    private final int[] weights;
    private final long totalWeight;
    private final boolean uniformWeights;

    private Candidates(Endpoint[] endpoints, int[] weights) {
      if (endpoints.length != weights.length) {
        throw new IllegalArgumentException(
            endpoints.length + " endpoints but " + weights.length + " weights");
      }
      long total = 0;
      boolean uniform = true;
      for (int i = 0; i < weights.length; i++) {
        if (weights[i] < 1) {
          throw new IllegalArgumentException(
              "weight of " + endpoints[i].address() + " must be at least 1 but was " + weights[i]);
        }
        total += weights[i];
        uniform &= weights[i] == weights[0];
      }
      this.endpoints = endpoints;
      this.weights = weights;
      this.totalWeight = total;
      this.uniformWeights = uniform;
    }

    /** Candidates from parallel arrays (copied). */
    public static Candidates of(Endpoint[] endpoints, int[] weights) {
      return new Candidates(endpoints.clone(), weights.clone());
    }

    public int size() {
      return endpoints.length;
    }

    public boolean isEmpty() {
      return endpoints.length == 0;
    }

    public Endpoint endpoint(int i) {
      return endpoints[i];
    }

    public int weight(int i) {
      return weights[i];
    }

    public long totalWeight() {
      return totalWeight;
    }

    /** Whether every candidate has the same weight (pickers may take a faster path). */
    public boolean hasUniformWeights() {
      return uniformWeights;
    }

    /** A copy of the endpoints, in order. */
    public Endpoint[] endpoints() {
      return endpoints.clone();
    }

    /** A copy of the weights, in order. */
    public int[] weights() {
      return weights.clone();
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder("Candidates[");
      for (int i = 0; i < endpoints.length; i++) {
        sb.append(i == 0 ? "" : ", ").append(endpoints[i].address()).append('=').append(weights[i]);
      }
      return sb.append(']').toString();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Candidates c
          && Arrays.equals(endpoints, c.endpoints)
          && Arrays.equals(weights, c.weights);
    }

    @Override
    public int hashCode() {
      return 31 * Arrays.hashCode(endpoints) + Arrays.hashCode(weights);
    }
  }
}
