package dev.switchboard.lb.metrics;

import dev.switchboard.lb.CallListener;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.ServiceInstance;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * Publishes a {@link Cluster}'s state to a Micrometer {@link MeterRegistry}.
 *
 * <p>Per cluster (tag {@code service}): gauges {@value #ENDPOINTS}, {@value #ELIGIBLE}, {@value
 * #PANIC} (0/1), {@value #REGISTRY_DEGRADED} (0/1) and {@value #REGISTRY_STALENESS} (seconds since
 * the cluster last applied a member list from the registry, see {@link
 * ClusterSnapshot#registryAge()}).
 *
 * <p>Per endpoint (tags {@code service}, {@code endpoint} = {@code host:port}, {@code zone}, {@code
 * "none"} when unknown):
 *
 * <ul>
 *   <li>timer {@value #CALLS} with one more tag, {@code outcome} (each {@link Outcome} by name:
 *       {@code SUCCESS}, {@code CONNECT_FAILURE}, {@code TIMEOUT}, {@code TRANSPORT_FAILURE},
 *       {@code OVERLOADED}, {@code APPLICATION_ERROR}, {@code CANCELLED}): every call finished
 *       since binding, with the latency its lease recorded (for {@code CANCELLED}, the time the
 *       lease was held). Its count gives calls and failures by outcome, its total and max the
 *       latency; percentiles and histograms are the registry's to configure ({@code MeterFilter}).
 *       All seven are registered when the endpoint joins, so a rate of failures starts from zero;
 *   <li>function counter {@value #FAILURES}: endpoint failures ({@link Outcome#isEndpointFailure})
 *       as the endpoint counts them since it joined, calls finished before binding included;
 *   <li>counter {@value #EJECTIONS}: ejections by outlier detection since binding;
 *   <li>gauges {@value #IN_FLIGHT}, {@value #EWMA} (milliseconds), {@value #BREAKER_STATE}
 *       (Resilience4j's {@code CircuitBreaker.State.getOrder()}: 0 closed, 1 open, 2 half-open, 3
 *       disabled, 4 forced open, 5 metrics only), {@value #EJECTED} (0/1) and {@value #WEIGHT}.
 * </ul>
 *
 * <p>Endpoint meters follow membership through a {@link ClusterListener} added with {@link
 * Cluster#addListener}: registered when an endpoint joins, removed when it has left and finished
 * its last call. The same listener is the cluster's {@link CallListener}: a finished call costs a
 * map lookup and a {@link Timer#record}; leases acquired before binding are not timed. Breaker
 * state, ejection, effective weight and the cluster gauges come from a {@link Cluster#snapshot()}
 * shared by all gauges read within {@value #SNAPSHOT_TTL_MILLIS} ms; the other values are read
 * live.
 *
 * <p>Micrometer is an optional dependency of lb-api: only this package needs it, and the rest of
 * lb-api loads and runs without it.
 *
 * <p>Thread-safe.
 */
public final class ClusterMetrics implements AutoCloseable {
  public static final String ENDPOINTS = "switchboard.cluster.endpoints";
  public static final String ELIGIBLE = "switchboard.cluster.endpoints.eligible";
  public static final String PANIC = "switchboard.cluster.panic";
  public static final String REGISTRY_DEGRADED = "switchboard.cluster.registry.degraded";
  public static final String REGISTRY_STALENESS = "switchboard.cluster.registry.staleness";
  public static final String IN_FLIGHT = "switchboard.endpoint.in.flight";
  public static final String EWMA = "switchboard.endpoint.latency.ewma";
  public static final String BREAKER_STATE = "switchboard.endpoint.breaker.state";
  public static final String EJECTED = "switchboard.endpoint.ejected";
  public static final String WEIGHT = "switchboard.endpoint.weight.effective";
  public static final String CALLS = "switchboard.endpoint.calls";
  public static final String FAILURES = "switchboard.endpoint.failures";
  public static final String EJECTIONS = "switchboard.endpoint.ejections";

  private static final Outcome[] OUTCOMES = Outcome.values();

  /** How long one snapshot serves the gauges that need it, so a scrape takes about one. */
  static final long SNAPSHOT_TTL_MILLIS = 100;

  private final Cluster cluster;
  private final MeterRegistry registry;
  private final Tags clusterTags;
  private final List<Meter> clusterMeters = new ArrayList<>();
  private final Listener listener;

  // Guarded by this.
  private final Map<String, Bound> endpoints = new HashMap<>();
  private boolean closed;

  // The calls timers of every bound endpoint, by outcome ordinal, for lock-free lookups per call.
  private final Map<Endpoint, Timer[]> callTimers = new ConcurrentHashMap<>();

  // Snapshot cache; racy refreshes only cost an extra snapshot.
  private volatile @Nullable Cached cached;

  private record Bound(Endpoint endpoint, List<Meter> meters, Counter ejections) {}

  private record Cached(
      long takenNanos, ClusterSnapshot snapshot, Map<String, EndpointSnapshot> byAddress) {}

  private ClusterMetrics(Cluster cluster, MeterRegistry registry) {
    this.cluster = cluster;
    this.registry = registry;
    this.clusterTags = Tags.of("service", cluster.service());
    this.listener = new Listener();
  }

  /** Follows membership and ejections (serial executor) and times calls (caller threads). */
  private final class Listener implements ClusterListener, CallListener {
    @Override
    public void endpointAdded(Endpoint endpoint) {
      add(endpoint);
    }

    @Override
    public void endpointRemoved(Endpoint endpoint) {
      remove(endpoint);
    }

    @Override
    public void endpointEjected(Endpoint endpoint, long ejectionNanos) {
      ejected(endpoint);
    }

    @Override
    public void callFinished(Lease lease, Outcome outcome, long latencyNanos) {
      Timer[] timers = callTimers.get(lease.endpoint());
      if (timers != null) {
        timers[outcome.ordinal()].record(latencyNanos, TimeUnit.NANOSECONDS);
      }
    }

    @Override
    public String toString() {
      return ClusterMetrics.this.toString();
    }
  }

  /**
   * Registers {@code cluster}'s meters in {@code registry} and keeps them in step with its members
   * until {@link #close}. Meters of endpoints already in the cluster are registered before this
   * returns unless another thread is changing the cluster's state at that moment, in which case
   * they appear as soon as it is done.
   */
  public static ClusterMetrics bind(Cluster cluster, MeterRegistry registry) {
    Objects.requireNonNull(cluster, "cluster");
    Objects.requireNonNull(registry, "registry");
    ClusterMetrics metrics = new ClusterMetrics(cluster, registry);
    metrics.registerClusterMeters();
    cluster.addListener(metrics.listener);
    return metrics;
  }

  private void registerClusterMeters() {
    clusterGauge(ENDPOINTS, "members of the cluster", m -> m.snapshot().endpoints().size());
    clusterGauge(ELIGIBLE, "members that can take calls now", m -> m.snapshot().eligibleCount());
    clusterGauge(PANIC, "1 while panic mode ignores health", m -> m.snapshot().panic() ? 1 : 0);
    clusterGauge(
        REGISTRY_DEGRADED,
        "1 while the registry is not trusted (last known members shown)",
        m -> m.snapshot().registryDegraded() ? 1 : 0);
    clusterMeters.add(
        Gauge.builder(REGISTRY_STALENESS, this, m -> m.snapshot().registryAge().toNanos() / 1e9)
            .description("time since the cluster last applied or confirmed the registry's members")
            .baseUnit("seconds")
            .tags(clusterTags)
            .register(registry));
  }

  private void clusterGauge(String name, String description, ToDoubleFunction<ClusterMetrics> f) {
    clusterMeters.add(
        Gauge.builder(name, this, f).description(description).tags(clusterTags).register(registry));
  }

  private void add(Endpoint e) {
    synchronized (this) {
      if (closed) {
        return;
      }
      String address = e.address();
      Bound previous = endpoints.remove(address);
      if (previous != null) {
        // A new member took over the address while the old one drains: the tags are the new one's.
        unbind(previous);
      }
      endpoints.put(address, endpointMeters(e));
    }
  }

  private void remove(Endpoint e) {
    synchronized (this) {
      Bound bound = endpoints.get(e.address());
      if (bound != null && bound.endpoint == e) {
        endpoints.remove(e.address());
        unbind(bound);
      }
    }
  }

  private void ejected(Endpoint e) {
    synchronized (this) {
      Bound bound = endpoints.get(e.address());
      if (bound != null && bound.endpoint == e) {
        bound.ejections.increment();
      }
    }
  }

  /** Holds this. */
  private void unbind(Bound bound) {
    callTimers.remove(bound.endpoint);
    bound.meters.forEach(registry::remove);
  }

  /** Registers {@code e}'s meters. Holds this. */
  private Bound endpointMeters(Endpoint e) {
    ServiceInstance instance = e.instance();
    Tags tags =
        clusterTags.and(
            "endpoint", e.address(), "zone", instance.zone().isEmpty() ? "none" : instance.zone());
    String address = e.address();
    List<Meter> meters = new ArrayList<>(8 + OUTCOMES.length);
    Timer[] timers = new Timer[OUTCOMES.length];
    for (Outcome outcome : OUTCOMES) {
      timers[outcome.ordinal()] =
          Timer.builder(CALLS)
              .description("calls finished, by outcome, with the latency the lease recorded")
              .tags(tags)
              .tag("outcome", outcome.name())
              .register(registry);
      meters.add(timers[outcome.ordinal()]);
    }
    Counter ejections =
        Counter.builder(EJECTIONS)
            .description("ejections by outlier detection")
            .tags(tags)
            .register(registry);
    meters.add(ejections);
    meters.add(
        Gauge.builder(IN_FLIGHT, e, Endpoint::inFlight)
            .description("calls started and not finished")
            .tags(tags)
            .register(registry));
    meters.add(
        Gauge.builder(EWMA, e, x -> x.latencyNanos(cluster.ticker().read()) / 1e6)
            .description("decayed peak-EWMA latency")
            .baseUnit("milliseconds")
            .tags(tags)
            .register(registry));
    meters.add(
        Gauge.builder(BREAKER_STATE, this, m -> m.endpointValue(address, Field.BREAKER))
            .description("circuit breaker state: 0 closed, 1 open, 2 half-open, 3 disabled, ...")
            .tags(tags)
            .register(registry));
    meters.add(
        Gauge.builder(EJECTED, this, m -> m.endpointValue(address, Field.EJECTED))
            .description("1 while ejected by outlier detection")
            .tags(tags)
            .register(registry));
    meters.add(
        Gauge.builder(WEIGHT, this, m -> m.endpointValue(address, Field.WEIGHT))
            .description("the weight picks use now (slow start applied)")
            .tags(tags)
            .register(registry));
    meters.add(
        FunctionCounter.builder(FAILURES, e, Endpoint::failures)
            .description("calls that ended in an endpoint failure, since the endpoint joined")
            .tags(tags)
            .register(registry));
    callTimers.put(e, timers);
    return new Bound(e, meters, ejections);
  }

  private enum Field {
    BREAKER,
    EJECTED,
    WEIGHT
  }

  private double endpointValue(String address, Field field) {
    EndpointSnapshot s = cached().byAddress.get(address);
    if (s == null) {
      return Double.NaN; // left the cluster, meters not yet removed
    }
    return switch (field) {
      case BREAKER -> s.breakerState().getOrder();
      case EJECTED -> s.ejectionRemaining().isZero() ? 0 : 1;
      case WEIGHT -> s.effectiveWeight();
    };
  }

  private ClusterSnapshot snapshot() {
    return cached().snapshot;
  }

  private Cached cached() {
    long now = System.nanoTime();
    Cached c = cached;
    if (c == null || now - c.takenNanos > SNAPSHOT_TTL_MILLIS * 1_000_000L) {
      ClusterSnapshot s = cluster.snapshot();
      Map<String, EndpointSnapshot> byAddress = new HashMap<>();
      for (EndpointSnapshot e : s.endpoints()) {
        byAddress.put(e.address(), e);
      }
      c = new Cached(now, s, byAddress);
      cached = c;
    }
    return c;
  }

  /** Forgets the cached snapshot, so the next gauge read takes a fresh one (tests). */
  void refresh() {
    cached = null;
  }

  /** Stops following the cluster and removes every meter this binding registered. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      for (Bound b : endpoints.values()) {
        unbind(b);
      }
      endpoints.clear();
    }
    clusterMeters.forEach(registry::remove);
    cluster.removeListener(listener);
  }

  @Override
  public String toString() {
    return "ClusterMetrics{" + cluster.service() + "}";
  }
}
