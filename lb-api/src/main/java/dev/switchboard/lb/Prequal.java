package dev.switchboard.lb;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * Balancing on the servers' own report of their load: Prequal (Wydrowski, Kleinberg, Rumble, Kumar,
 * "Load is not what you should balance", NSDI 2024), the policy behind YouTube's load balancing.
 * Each pick sends a few probes, off the call path, to random members; a server answers with its
 * requests in flight (RIF) and its recent latency at that load. The client keeps the most recent
 * answers in a small pool and picks by the hot-cold rule: members whose RIF is above a quantile of
 * the pool's are hot; of the cold ones, the lowest latency wins; if all are hot, the lowest RIF. A
 * probe ages out after {@link Builder#maxAge} and is used a bounded number of times; its RIF
 * follows this client's own calls to the member since it arrived (Prequal adds one per use).
 *
 * <p>What a client-side signal cannot see, a probe can: the load the member's <em>other</em>
 * clients put on it, and a member that is slow because a neighbour took its CPU. Members that do
 * not answer probes (no probe port, a stock server) are picked by least connections on this
 * client's own in-flight counts, as are all members while the pool is empty.
 *
 * <p>Sinkholing: a member that fails fast reports few requests in flight and a low latency, and
 * would attract every call. A member whose last call from this client failed fast (refused, reset,
 * overloaded; not a timeout) is therefore treated as hotter than any other until a call to it
 * succeeds (outlier ejection then removes it if it keeps failing).
 *
 * <p>{@link Prober} sends the probes; {@link LoadTracker} is the server half that counts what a
 * probe answers.
 */
public final class Prequal {
  /** Probes sent per call, on average, unless configured: Prequal sends 1 to 3. */
  public static final double DEFAULT_PROBES_PER_CALL = 2.0;

  /**
   * Probes a cluster sends per second at most, unless configured. A probe costs its server about 10
   * µs of CPU (benchmarks' ProbeCost): at 2 probes per call a busy client of cheap calls would cost
   * its servers as much in probes as in calls.
   */
  public static final int DEFAULT_MAX_PROBES_PER_SECOND = 2_000;

  /** Probe answers kept per client cluster, unless configured (the paper's pool of 16). */
  public static final int DEFAULT_POOL_SIZE = 16;

  /** How long a probe answer is trusted, unless configured. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofSeconds(1);

  /** The RIF quantile of the pool above which a member is hot, unless configured. */
  public static final double DEFAULT_HOT_QUANTILE = 0.84;

  /**
   * How many calls one probe answer may place, unless configured: one. In the simulator (50 clients
   * × 20 servers, benchmarks/README.md) reusing answers made them stale: at 90% load the p99 was 51
   * ms with two uses and 39 ms with one, least connections' 56 ms.
   */
  public static final int DEFAULT_MAX_USES = 1;

  private Prequal() {}

  /** A builder of the Prequal policy whose probes {@code prober} sends. */
  public static Builder builder(Prober prober) {
    return new Builder(prober);
  }

  /**
   * Sends probes. Called on the picking thread, so it must not block: send and return (a
   * non-blocking datagram, or a hand-off to a sender thread), and deliver the answer, if one comes,
   * to {@link Replies#accept} from any thread. A member whose server does not answer probes is
   * simply never reported. Implementations must be thread-safe.
   */
  @FunctionalInterface
  public interface Prober {
    /**
     * Sends one probe to {@code endpoint}'s server; its answer, if any, goes to {@code replies}.
     */
    void probe(Endpoint endpoint, Replies replies);
  }

  /** Where a {@link Prober} delivers answers. Thread-safe; never blocks. */
  @FunctionalInterface
  public interface Replies {
    /**
     * One server's answer.
     *
     * @param requestsInFlight calls the server was serving when it answered
     * @param latencyNanos its recent latency at about that load; 0 if it has none yet
     * @param receivedNanos when the answer arrived, on the cluster's ticker ({@link
     *     System#nanoTime()} unless a test injected another)
     */
    void accept(Endpoint endpoint, int requestsInFlight, long latencyNanos, long receivedNanos);
  }

  /**
   * The server half: counts requests in flight and keeps a latency estimate per load level, so a
   * probe can be answered with "RIF r, latency at r". Prequal answers with the latency of recent
   * requests that started at about the current RIF, because latency rises with load; here each RIF
   * level up to {@value #LEVELS} keeps a moving average (weight 1/8 per request) of the requests
   * that started at that level, and a probe at a level with no recent sample is answered from the
   * nearest level below that has one.
   *
   * <p>Only samples from the last {@link #WINDOW_NANOS} count: an estimate from a quiet period says
   * nothing about now, and a member whose stale estimate looked slow would never be picked to
   * correct it. With no recent sample the latency is reported as 0, unknown, which the client ranks
   * first among members with few requests in flight, so an idle member gets traffic.
   *
   * <p>Thread-safe and lock-free; {@link #begin} and {@link #end} cost a few atomic operations.
   */
  public static final class LoadTracker {
    static final int LEVELS = 64;

    /** How long a latency sample counts: one second. */
    public static final long WINDOW_NANOS = 1_000_000_000L;

    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicLongArray latencyByLevel = new AtomicLongArray(LEVELS);
    private final AtomicLongArray stampByLevel = new AtomicLongArray(LEVELS);

    /** A request starts; returns its level, to pass to {@link #end}. */
    public int begin() {
      return inFlight.getAndIncrement();
    }

    /**
     * The request that {@link #begin} returned {@code level} for finished after {@code
     * latencyNanos}, at {@code nowNanos} ({@link System#nanoTime()} or a test's clock).
     */
    public void end(int level, long latencyNanos, long nowNanos) {
      inFlight.decrementAndGet();
      int i = Math.min(Math.max(level, 0), LEVELS - 1);
      long sample = Math.max(1, latencyNanos);
      long old = latencyByLevel.get(i);
      boolean fresh = old != 0 && nowNanos - stampByLevel.get(i) <= WINDOW_NANOS;
      // Racy read-modify-write on purpose: a lost update only drops one sample of an average.
      latencyByLevel.set(i, fresh ? old + (sample - old) / 8 : sample);
      stampByLevel.set(i, nowNanos);
    }

    /** Requests begun and not yet ended. */
    public int requestsInFlight() {
      return Math.max(0, inFlight.get());
    }

    /**
     * The latency estimate at the current load, in nanoseconds; 0 if no request at or below this
     * load ended in the last second.
     */
    public long latencyNanos(long nowNanos) {
      return latencyAt(requestsInFlight(), nowNanos);
    }

    /** The latency estimate at load {@code level}: its own, else the nearest below; 0 if none. */
    long latencyAt(int level, long nowNanos) {
      for (int i = Math.min(level, LEVELS - 1); i >= 0; i--) {
        long l = latencyByLevel.get(i);
        if (l != 0 && nowNanos - stampByLevel.get(i) <= WINDOW_NANOS) {
          return l;
        }
      }
      return 0;
    }
  }

  /**
   * Builds the Prequal {@link BalancingPolicy}. Each setter validates its argument at once. One
   * policy may serve several clusters; each cluster keeps its own pool of answers.
   */
  public static final class Builder {
    private final Prober prober;
    private double probesPerCall = DEFAULT_PROBES_PER_CALL;
    private int poolSize = DEFAULT_POOL_SIZE;
    private Duration maxAge = DEFAULT_MAX_AGE;
    private double hotQuantile = DEFAULT_HOT_QUANTILE;
    private int maxUses = DEFAULT_MAX_USES;
    private int maxProbesPerSecond = DEFAULT_MAX_PROBES_PER_SECOND;

    private Builder(Prober prober) {
      this.prober = Objects.requireNonNull(prober, "prober");
    }

    /**
     * Probes per call, on average: the whole part always, the fraction as a chance. 0 turns probing
     * off (then every pick is least connections).
     *
     * @throws IllegalArgumentException outside {@code [0, 8]}
     */
    public Builder probesPerCall(double probesPerCall) {
      if (!(probesPerCall >= 0 && probesPerCall <= 8)) {
        throw new IllegalArgumentException("probesPerCall must be in [0, 8], was " + probesPerCall);
      }
      this.probesPerCall = probesPerCall;
      return this;
    }

    /**
     * Probe answers kept.
     *
     * @throws IllegalArgumentException outside {@code [2, 64]}
     */
    public Builder poolSize(int poolSize) {
      if (poolSize < 2 || poolSize > ProbePool.MAX_SIZE) {
        throw new IllegalArgumentException(
            "poolSize must be in [2, " + ProbePool.MAX_SIZE + "], was " + poolSize);
      }
      this.poolSize = poolSize;
      return this;
    }

    /**
     * How long an answer is used after it arrived.
     *
     * @throws IllegalArgumentException unless positive
     */
    public Builder maxAge(Duration maxAge) {
      Objects.requireNonNull(maxAge, "maxAge");
      if (maxAge.isNegative() || maxAge.isZero()) {
        throw new IllegalArgumentException("maxAge must be positive, was " + maxAge);
      }
      this.maxAge = maxAge;
      return this;
    }

    /**
     * The quantile of the pool's RIFs above which a member counts as hot.
     *
     * @throws IllegalArgumentException outside {@code (0, 1]}
     */
    public Builder hotQuantile(double hotQuantile) {
      if (!(hotQuantile > 0 && hotQuantile <= 1)) {
        throw new IllegalArgumentException("hotQuantile must be in (0, 1], was " + hotQuantile);
      }
      this.hotQuantile = hotQuantile;
      return this;
    }

    /**
     * How many calls one answer may place before it is dropped.
     *
     * @throws IllegalArgumentException unless in {@code [1, 100]}
     */
    public Builder maxUses(int maxUses) {
      if (maxUses < 1 || maxUses > 100) {
        throw new IllegalArgumentException("maxUses must be in [1, 100], was " + maxUses);
      }
      this.maxUses = maxUses;
      return this;
    }

    /**
     * Probes one cluster sends per second at most (a burst of a tenth of a second's worth may go at
     * once).
     *
     * @throws IllegalArgumentException unless in {@code [1, 1000000]}
     */
    public Builder maxProbesPerSecond(int maxProbesPerSecond) {
      if (maxProbesPerSecond < 1 || maxProbesPerSecond > 1_000_000) {
        throw new IllegalArgumentException(
            "maxProbesPerSecond must be in [1, 1000000], was " + maxProbesPerSecond);
      }
      this.maxProbesPerSecond = maxProbesPerSecond;
      return this;
    }

    /** The policy, named {@code "prequal"}. */
    public BalancingPolicy build() {
      return build(RandomSource.THREAD_LOCAL);
    }

    BalancingPolicy build(RandomSource random) {
      ProbePool.Settings settings =
          new ProbePool.Settings(
              poolSize, maxAge.toNanos(), hotQuantile, maxUses, maxProbesPerSecond);
      double probes = probesPerCall;
      return BalancingPolicy.of(
          "prequal",
          (candidates, previous) ->
              PrequalPicker.create(candidates, previous, prober, probes, settings, random));
    }
  }
}
