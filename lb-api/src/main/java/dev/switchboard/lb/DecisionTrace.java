package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.IntUnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs why a cluster sends calls where it does, through the SLF4J logger {@code
 * dev.switchboard.lb.DecisionTrace}: at INFO every member joining or leaving, every ejection and
 * restore, and every eligibility change (breaker opened, draining, failing health check, ...) with
 * how long the endpoint had been in its previous state; at DEBUG, a random sample of picks, each
 * with the candidates the policy chose among.
 *
 * <pre>{@code
 * Cluster cluster =
 *     Cluster.builder("echo")
 *         .registry(registry)
 *         .listener(DecisionTrace.builder().samplePicks(1000).build())
 *         .build();
 * }</pre>
 *
 * <p>A pick line names the policy, the chosen endpoint (marked {@code *}) and, per candidate, its
 * address, effective weight, calls in flight as the picker saw them (the chosen endpoint's without
 * this call) and peak-EWMA latency, for example:
 *
 * <pre>
 * Service 'echo': picked 127.0.0.1:9002 (least_connections, 1 in 1000) from 3 candidates:
 * 127.0.0.1:9001 w=100 in-flight=4 ewma=1.25 ms, *127.0.0.1:9002 w=100 in-flight=1 ewma=900 µs,
 * 127.0.0.1:9003 w=100 in-flight=2 ewma=2.40 ms
 * </pre>
 *
 * <p>For power-of-two-choices policies the two sampled candidates are not reported separately: the
 * line shows the whole set they were drawn from.
 *
 * <h2>Cost</h2>
 *
 * A cluster without a trace (or any other {@link CallListener}) pays nothing for it. With a trace
 * and DEBUG off, each pick pays one {@code isDebugEnabled()} check; with DEBUG on, one random draw,
 * and only a sampled pick builds its line. Eligibility events are rare and always logged at INFO.
 *
 * <p>Add it with {@link Cluster.Builder#listener} (it then sees every event from the start) or
 * {@link Cluster#addListener} (it first hears every current member join). One trace may serve
 * several clusters. Thread-safe.
 */
public final class DecisionTrace implements ClusterListener, CallListener {
  private final Sink sink;
  private final int samplePicks;
  private final int maxCandidates;
  private final Ticker ticker;
  private final IntUnaryOperator draw;

  // Per endpoint: when it entered its current eligibility, and its last ejection's length.
  private final Map<Endpoint, Long> since = new ConcurrentHashMap<>();
  private final Map<Endpoint, Long> ejectionNanos = new ConcurrentHashMap<>();

  private DecisionTrace(Builder b) {
    this.sink = b.sink;
    this.samplePicks = b.samplePicks;
    this.maxCandidates = b.maxCandidates;
    this.ticker = b.ticker;
    this.draw = b.draw;
  }

  /** A trace logging 1 in 100 picks at DEBUG and at most 10 candidates per pick line. */
  public static DecisionTrace create() {
    return builder().build();
  }

  /** Starts configuring a trace. */
  public static Builder builder() {
    return new Builder();
  }

  // ---- eligibility events (cluster's serial executor) --------------------------------------

  @Override
  public void endpointAdded(Endpoint endpoint) {
    since.put(endpoint, ticker.read());
    if (sink.isInfoEnabled()) {
      ServiceInstance i = endpoint.instance();
      sink.info(
          prefix(endpoint)
              + endpoint.address()
              + " joined (id "
              + i.id()
              + (i.zone().isEmpty() ? "" : ", zone " + i.zone())
              + ", weight "
              + i.weight()
              + (i.draining() ? ", draining" : "")
              + ")");
    }
  }

  @Override
  public void endpointRemoved(Endpoint endpoint) {
    since.remove(endpoint);
    ejectionNanos.remove(endpoint);
    if (sink.isInfoEnabled()) {
      sink.info(prefix(endpoint) + endpoint.address() + " left and finished its last call");
    }
  }

  @Override
  public void endpointEjected(Endpoint endpoint, long ejectionNanos) {
    this.ejectionNanos.put(endpoint, ejectionNanos);
    if (sink.isInfoEnabled()) {
      sink.info(
          prefix(endpoint)
              + "ejected "
              + endpoint.address()
              + " for "
              + duration(ejectionNanos)
              + " by outlier detection after "
              + endpoint.consecutiveFailures()
              + " consecutive failures ("
              + endpoint.failures()
              + " of "
              + endpoint.calls()
              + " calls failed so far)");
    }
  }

  @Override
  public void endpointRestored(Endpoint endpoint) {
    Long ejected = ejectionNanos.get(endpoint);
    if (sink.isInfoEnabled()) {
      sink.info(
          prefix(endpoint)
              + "restored "
              + endpoint.address()
              + (ejected == null ? "" : " after its " + duration(ejected) + " ejection"));
    }
  }

  @Override
  public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
    long now = ticker.read();
    Long previous = since.put(endpoint, now);
    if (sink.isInfoEnabled()) {
      sink.info(
          prefix(endpoint)
              + endpoint.address()
              + " is now "
              + to.description()
              + " (was "
              + from.description()
              + (previous == null ? "" : " for " + duration(now - previous))
              + ")");
    }
  }

  // ---- picks (caller threads) --------------------------------------------------------------

  @Override
  public void callStarted(Lease lease, Candidates candidates) {
    if (!sink.isDebugEnabled() || (samplePicks > 1 && draw.applyAsInt(samplePicks) != 0)) {
      return;
    }
    sink.debug(describePick(lease, candidates));
  }

  String describePick(Lease lease, Candidates candidates) {
    Endpoint chosen = lease.endpoint();
    long now = lease.startNanos();
    int n = candidates.size();
    StringBuilder sb = new StringBuilder(96 + 64 * Math.min(n, maxCandidates));
    sb.append(prefix(chosen))
        .append("picked ")
        .append(chosen.address())
        .append(" (")
        .append(lease.cluster().policyName());
    if (samplePicks > 1) {
      sb.append(", 1 in ").append(samplePicks);
    }
    if (lease.isProbe()) {
      sb.append(", half-open probe");
    }
    sb.append(") from ").append(n).append(n == 1 ? " candidate: " : " candidates: ");
    boolean chosenShown = false;
    int shown = Math.min(n, maxCandidates);
    for (int i = 0; i < shown; i++) {
      Endpoint e = candidates.endpoint(i);
      chosenShown |= e == chosen;
      appendCandidate(sb.append(i == 0 ? "" : ", "), e, candidates.weight(i), e == chosen, now);
    }
    if (!chosenShown) {
      // Beyond the first maxCandidates: list it anyway.
      for (int i = shown; i < n; i++) {
        if (candidates.endpoint(i) == chosen) {
          appendCandidate(sb.append(", "), chosen, candidates.weight(i), true, now);
          shown++;
          break;
        }
      }
    }
    if (n > shown) {
      sb.append(", ... ").append(n - shown).append(" more");
    }
    return sb.toString();
  }

  private static void appendCandidate(
      StringBuilder sb, Endpoint e, int weight, boolean chosen, long now) {
    sb.append(chosen ? "*" : "")
        .append(e.address())
        .append(" w=")
        .append(weight)
        .append(" in-flight=")
        .append(chosen ? Math.max(0, e.inFlight() - 1) : e.inFlight())
        .append(" ewma=")
        .append(EndpointSnapshot.latencyText(e.latencyNanos(now)));
  }

  // ---- formatting ---------------------------------------------------------------------------

  private static String prefix(Endpoint e) {
    return "Service '" + e.instance().service() + "': ";
  }

  /** {@code 850 ms}, {@code 12.5 s}, {@code 3.0 min}. */
  static String duration(long nanos) {
    long millis = Math.max(0, nanos) / 1_000_000;
    if (millis < 10_000) {
      return millis + " ms";
    }
    if (millis < 120_000) {
      return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }
    return String.format(Locale.ROOT, "%.1f min", millis / 60_000.0);
  }

  @Override
  public String toString() {
    return "DecisionTrace{picks 1 in " + samplePicks + "}";
  }

  /** Where trace lines go: the SLF4J logger unless a test says otherwise. */
  interface Sink {
    boolean isInfoEnabled();

    boolean isDebugEnabled();

    void info(String line);

    void debug(String line);

    static Sink of(Logger logger) {
      return new Sink() {
        @Override
        public boolean isInfoEnabled() {
          return logger.isInfoEnabled();
        }

        @Override
        public boolean isDebugEnabled() {
          return logger.isDebugEnabled();
        }

        @Override
        public void info(String line) {
          logger.info(line);
        }

        @Override
        public void debug(String line) {
          logger.debug(line);
        }
      };
    }
  }

  /**
   * Configures a {@link DecisionTrace}; each setter validates its value at once. Not thread-safe.
   */
  public static final class Builder {
    private Sink sink = Sink.of(LoggerFactory.getLogger(DecisionTrace.class));
    private int samplePicks = 100;
    private int maxCandidates = 10;
    private Ticker ticker = Ticker.system();
    private IntUnaryOperator draw = bound -> ThreadLocalRandom.current().nextInt(bound);

    private Builder() {}

    /**
     * Logs about 1 in {@code oneIn} picks (chosen at random) while DEBUG is on; 1 logs every pick.
     * Default 100.
     */
    public Builder samplePicks(int oneIn) {
      if (oneIn < 1) {
        throw new IllegalArgumentException("samplePicks must be at least 1 but was " + oneIn);
      }
      this.samplePicks = oneIn;
      return this;
    }

    /**
     * Lists at most {@code max} candidates per pick line (the chosen one always); the rest are
     * counted. Default 10.
     */
    public Builder maxCandidates(int max) {
      if (max < 1) {
        throw new IllegalArgumentException("maxCandidates must be at least 1 but was " + max);
      }
      this.maxCandidates = max;
      return this;
    }

    /** Logs through {@code logger} instead of {@code dev.switchboard.lb.DecisionTrace}. */
    public Builder logger(Logger logger) {
      this.sink = Sink.of(Objects.requireNonNull(logger, "logger"));
      return this;
    }

    /** Where lines go (tests). */
    Builder sink(Sink sink) {
      this.sink = Objects.requireNonNull(sink, "sink");
      return this;
    }

    /** The clock for how long endpoints stayed in a state (tests). */
    Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /** The random draw deciding which picks are sampled: a value in {@code [0, bound)} (tests). */
    Builder draw(IntUnaryOperator draw) {
      this.draw = Objects.requireNonNull(draw, "draw");
      return this;
    }

    public DecisionTrace build() {
      return new DecisionTrace(this);
    }
  }
}
