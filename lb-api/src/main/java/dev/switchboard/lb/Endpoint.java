package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.PickResult;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import org.jspecify.annotations.Nullable;

/**
 * One member of a cluster as this client sees it: the registered instance plus the client's own
 * view of its load and health (in-flight calls, latency average, circuit breaker, ejection).
 *
 * <p>An endpoint keeps its identity, and so its counters, across membership updates for as long as
 * the instance stays registered with the same id and address. Thread-safe: read by pickers on
 * caller threads, updated by leases and by the cluster's serial executor.
 */
public final class Endpoint {
  private static final long NO_SLOW_START = Long.MIN_VALUE;
  private static final VarHandle EWMA_NANOS;
  private static final VarHandle EWMA_STAMP_NANOS;

  static {
    try {
      MethodHandles.Lookup lookup = MethodHandles.lookup();
      EWMA_NANOS = lookup.findVarHandle(Endpoint.class, "ewmaNanos", double.class);
      EWMA_STAMP_NANOS = lookup.findVarHandle(Endpoint.class, "ewmaStampNanos", long.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final String key;
  private final PickResult picked = PickResult.of(this);
  private final EndpointHealth health;
  private volatile ServiceInstance instance;
  // The integration's per-endpoint state (a connection pool), opened when the endpoint joined.
  private volatile @Nullable AutoCloseable resource;

  // Load
  private final AtomicInteger inFlight = new AtomicInteger();
  private final LongAdder calls = new LongAdder();
  private final LongAdder failures = new LongAdder();
  private final AtomicInteger consecutiveFailures = new AtomicInteger();
  private volatile boolean failedFast;

  /*
   * The latency estimate: a peak EWMA that forgets by time and by answers
   * ---------------------------------------------------------------------
   * Finagle's PeakEwma (finagle-core loadbalancer/PeakEwma.scala; Linkerd's and Envoy's follow
   * it) takes any answer slower than the estimate at once (the peak) and blends faster ones in
   * with the weight exp(-elapsed/tau) for the time since the last answer, tau = 10 s. The weight
   * depends on time only, so one slow answer dominates for tens of seconds however many fast
   * answers follow: the demo showed 44.6 ms a second after start-up for a server answering in
   * 0.2 ms, still 24 ms at +7 s; at thousands of calls per second every GC pause re-peaked the
   * estimate long before the last one was forgotten, so it tracked the recent maximum.
   *
   * Here each faster answer leaves the old estimate the weight exp(-(elapsed/tau + 1/ANSWERS)):
   * it forgets at 1/tau per second and at 1/ANSWERS per answer, whichever adds up faster.
   * - A slow server is seen at once: an answer above the estimate replaces it, as in Finagle.
   * - A spike is forgotten after ~ANSWERS·ln(spike/latency) fast answers: 44 ms over 0.2 ms
   *   takes ~40 answers to fall below 1 ms, under a second from 50 answers a second on (the demo
   *   makes thousands); at 10 a second the time window does it within ~2 s.
   * - Still peak-sensitive: a server slow on one answer in ten (20 ms among 0.2 ms ones) never
   *   looks faster than ~8 ms, as each slow answer re-peaks it.
   * - ANSWERS = 10 keeps the estimate a few answers deep: noisier than a deep one, but a deep one
   *   sits near a high quantile of recent answers (each answer above it re-peaks it), which is
   *   what made the old estimate follow the tail.
   * - An endpoint without answers (quiet, or avoided after a slow answer) decays towards zero
   *   over tau, default 1 s rather than Finagle's 10 s, and is tried again once cheaper than the
   *   others: after tau·ln(its latency / the others' cost), ~4–5 s for 20 ms against 0.2 ms
   *   (~45 s with tau = 10 s). A trial costs a call or two (its in-flight count doubles its
   *   cost until it answers). A spike on an avoided endpoint is only forgotten then: without a
   *   call, nothing tells a spike from a slow server. A shorter tau retries sooner and sends
   *   slow servers more calls (the simulator's slow server: 0.4% of calls at 10 s, 0.7% at 1 s,
   *   1.2% at 250 ms); probes of server-reported load are the way to know sooner for free.
   * Racy pairs of updates lose at most one observation. Written with release stores (readers need
   * the values, not a full fence after every call; on x86 a volatile store costs a locked
   * instruction), read as volatiles.
   */
  /** The default time window of the latency estimate (see {@link #latencyNanos}). */
  static final Duration DEFAULT_DECAY_WINDOW = Duration.ofSeconds(1);

  /** Answers after which a faster answer has replaced all but 1/e of the old estimate. */
  static final int ANSWERS = 10;

  private static final double PER_ANSWER_WEIGHT = Math.exp(-1.0 / ANSWERS);

  private final double decayNanos;
  private final double failurePenaltyNanos;
  private volatile double ewmaNanos;
  private volatile long ewmaStampNanos;

  // Set on the cluster's executor only.
  private volatile long slowStartSinceNanos = NO_SLOW_START;
  private volatile boolean removed;
  private final AtomicBoolean closed = new AtomicBoolean();

  Endpoint(
      ServiceInstance instance,
      Breaker breaker,
      long decayNanos,
      long failurePenaltyNanos,
      long nowNanos) {
    this.key = keyOf(instance);
    this.instance = instance;
    this.health = new EndpointHealth(breaker);
    this.decayNanos = decayNanos;
    this.failurePenaltyNanos = failurePenaltyNanos;
    this.ewmaStampNanos = nowNanos;
  }

  static String keyOf(ServiceInstance instance) {
    return instance.id() + "@" + instance.address();
  }

  String key() {
    return key;
  }

  /** The instance as last seen in the registry. */
  public ServiceInstance instance() {
    return instance;
  }

  void updateInstance(ServiceInstance instance) {
    this.instance = instance;
  }

  /** {@code host:port} of the instance. */
  public String address() {
    return instance.address();
  }

  /** Calls started on this endpoint and not yet finished. */
  public int inFlight() {
    return inFlight.get();
  }

  /** Calls finished on this endpoint since this client first saw it. */
  public long calls() {
    return calls.sum();
  }

  /** Calls that ended in an endpoint failure (see {@link Outcome#isEndpointFailure()}). */
  public long failures() {
    return failures.sum();
  }

  /**
   * The latency estimate in nanoseconds: a peak EWMA that takes a slower answer at once and forgets
   * it over the next few faster answers (about ten) or the time window (default 1 s), whichever
   * comes first; decayed towards zero for the time since the last answer, so an endpoint that got
   * no traffic for a while is tried again. 0 before the first answer.
   */
  public double latencyNanos(long nowNanos) {
    double ewma = ewmaNanos;
    long idle = nowNanos - ewmaStampNanos;
    // Skip the exponential for endpoints observed within the last 1/64 of the window.
    if (ewma != 0.0 && idle > (long) decayNanos >> 6) {
      ewma *= Math.exp(-idle / decayNanos);
    }
    return ewma;
  }

  /**
   * The peak-EWMA load: latency × (in-flight + 1), as Finagle and Linkerd. An endpoint with no
   * latency yet but calls in flight costs the most, so a new endpoint is not piled onto before its
   * first reply.
   */
  public double cost(long nowNanos) {
    int pending = inFlight.get();
    double latency = latencyNanos(nowNanos);
    if (latency == 0.0 && pending > 0) {
      return Double.MAX_VALUE / 2;
    }
    return latency * (pending + 1);
  }

  /**
   * The integration's resource for this endpoint (a Thrift connection pool, say), opened by the
   * factory given to {@link Cluster.Builder#endpointResource} when the endpoint joined and closed
   * when it left and its last call finished.
   *
   * @throws IllegalStateException if the cluster has no resource factory, or the resource is not a
   *     {@code type}
   */
  public <R> R resource(Class<R> type) {
    AutoCloseable r = resource;
    if (!type.isInstance(r)) {
      throw new IllegalStateException(
          "endpoint "
              + address()
              + " has no resource of "
              + type.getName()
              + (r == null ? " (the cluster has no endpointResource factory)" : " but a " + r));
    }
    return type.cast(r);
  }

  void openResource(@Nullable AutoCloseable resource) {
    this.resource = resource;
  }

  /** The resource, detached so it is closed once. */
  @Nullable AutoCloseable takeResource() {
    AutoCloseable r = resource;
    resource = null;
    return r;
  }

  /** This endpoint as a pick result; made once, so returning it allocates nothing. */
  public PickResult asPickResult() {
    return picked;
  }

  EndpointHealth health() {
    return health;
  }

  // ---- lease path ---------------------------------------------------------------------------

  /** Raises in-flight if below {@code max}; returns whether it did. */
  boolean tryReserve(int max) {
    int n = inFlight.incrementAndGet();
    if (n > max) {
      inFlight.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Lowers in-flight; returns the new count. */
  int release() {
    return inFlight.decrementAndGet();
  }

  /**
   * Records a finished call. Returns the consecutive endpoint-failure count after this call (0
   * after a success).
   */
  int record(Outcome outcome, long latencyNanos, long nowNanos) {
    if (outcome == Outcome.CANCELLED) {
      return consecutiveFailures.get();
    }
    calls.increment();
    failedFast = outcome.isEndpointFailure() && outcome != Outcome.TIMEOUT;
    if (outcome.isEndpointFailure()) {
      failures.increment();
      observe(Math.max((double) latencyNanos, failurePenaltyNanos), nowNanos);
      return consecutiveFailures.incrementAndGet();
    }
    observe(latencyNanos, nowNanos);
    if (consecutiveFailures.get() != 0) {
      consecutiveFailures.set(0);
    }
    return 0;
  }

  private void observe(double rttNanos, long nowNanos) {
    double ewma = ewmaNanos;
    long td = Math.max(nowNanos - ewmaStampNanos, 0);
    if (rttNanos > ewma) {
      ewma = rttNanos;
    } else {
      double w = PER_ANSWER_WEIGHT * decayWeight(td / decayNanos);
      ewma = ewma * w + rttNanos * (1 - w);
    }
    EWMA_NANOS.setRelease(this, ewma);
    EWMA_STAMP_NANOS.setRelease(this, nowNanos);
  }

  /**
   * {@code exp(-x)} for {@code x >= 0}. Busy endpoints are observed far more often than the decay
   * window (x is around 1e-4 at 1 s and 10,000 calls per second), where a cubic Taylor polynomial
   * is exact to {@code x^4/24} (below 1e-8 for x up to 1/64) and much cheaper than {@code
   * Math.exp}.
   */
  static double decayWeight(double x) {
    if (x <= 1.0 / 64) {
      return 1 - x * (1 - x * (0.5 - x * (1.0 / 6)));
    }
    return Math.exp(-x);
  }

  int consecutiveFailures() {
    return consecutiveFailures.get();
  }

  /**
   * Whether this client's last call to it ended in a failure other than a timeout: refused, reset,
   * overloaded. Such an endpoint may look idle to a load probe (a sinkhole); one that timed out
   * does not.
   */
  boolean failedFast() {
    return failedFast;
  }

  void resetConsecutiveFailures() {
    consecutiveFailures.set(0);
  }

  // ---- slow start ---------------------------------------------------------------------------

  void startSlowStart(long nowNanos) {
    slowStartSinceNanos = nowNanos;
  }

  void endSlowStart() {
    slowStartSinceNanos = NO_SLOW_START;
  }

  boolean inSlowStart() {
    return slowStartSinceNanos != NO_SLOW_START;
  }

  long slowStartSinceNanos() {
    return slowStartSinceNanos;
  }

  // ---- lifecycle ----------------------------------------------------------------------------

  void markRemoved() {
    removed = true;
  }

  /** Whether the endpoint left the cluster (it may still finish in-flight calls). */
  public boolean isRemoved() {
    return removed;
  }

  /** Returns true exactly once: when the removed endpoint may be closed. */
  boolean tryClose() {
    return removed && inFlight.get() == 0 && closed.compareAndSet(false, true);
  }

  /** Whether the endpoint left the cluster and its last call finished. */
  public boolean isClosed() {
    return closed.get();
  }

  @Override
  public String toString() {
    return "Endpoint{" + key + ", inFlight=" + inFlight.get() + "}";
  }
}
