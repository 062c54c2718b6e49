package dev.switchboard.lb.metrics;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.ServiceInstance;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * Publishes a {@link Cluster}'s state to a Micrometer {@link MeterRegistry}.
 *
 * <p>Per cluster (tag {@code service}): gauges {@value #ENDPOINTS}, {@value #ELIGIBLE}, {@value
 * #PANIC} (0/1) and {@value #REGISTRY_DEGRADED} (0/1). Per endpoint (tags {@code service}, {@code
 * endpoint} = {@code host:port}, {@code zone}, {@code "none"} when unknown): gauges {@value
 * #IN_FLIGHT}, {@value #EWMA} (milliseconds), {@value #BREAKER_STATE} (Resilience4j's {@code
 * CircuitBreaker.State.getOrder()}: 0 closed, 1 open, 2 half-open, 3 disabled, 4 forced open, 5
 * metrics only), {@value #EJECTED} (0/1) and {@value #WEIGHT}; function counters {@value #CALLS}
 * and {@value #FAILURES}.
 *
 * <p>Endpoint meters follow membership through a {@link ClusterListener} added with {@link
 * Cluster#addListener}: registered when an endpoint joins, removed when it has left and finished
 * its last call. Breaker state, ejection and effective weight come from a {@link
 * Cluster#snapshot()} shared by all gauges read within {@value #SNAPSHOT_TTL_MILLIS} ms; the other
 * values are read live.
 *
 * <p>Thread-safe.
 */
public final class ClusterMetrics implements AutoCloseable {
  public static final String ENDPOINTS = "switchboard.cluster.endpoints";
  public static final String ELIGIBLE = "switchboard.cluster.endpoints.eligible";
  public static final String PANIC = "switchboard.cluster.panic";
  public static final String REGISTRY_DEGRADED = "switchboard.cluster.registry.degraded";
  public static final String IN_FLIGHT = "switchboard.endpoint.in.flight";
  public static final String EWMA = "switchboard.endpoint.latency.ewma";
  public static final String BREAKER_STATE = "switchboard.endpoint.breaker.state";
  public static final String EJECTED = "switchboard.endpoint.ejected";
  public static final String WEIGHT = "switchboard.endpoint.weight.effective";
  public static final String CALLS = "switchboard.endpoint.calls";
  public static final String FAILURES = "switchboard.endpoint.failures";

  /** How long one snapshot serves the gauges that need it, so a scrape takes about one. */
  static final long SNAPSHOT_TTL_MILLIS = 100;

  private final Cluster cluster;
  private final MeterRegistry registry;
  private final Tags clusterTags;
  private final List<Meter> clusterMeters = new ArrayList<>();
  private final ClusterListener listener;

  // Guarded by this.
  private final Map<String, Bound> endpoints = new HashMap<>();
  private boolean closed;

  // Snapshot cache; racy refreshes only cost an extra snapshot.
  private volatile @Nullable Cached cached;

  private record Bound(Endpoint endpoint, List<Meter> meters) {}

  private record Cached(
      long takenNanos, ClusterSnapshot snapshot, Map<String, EndpointSnapshot> byAddress) {}

  private ClusterMetrics(Cluster cluster, MeterRegistry registry) {
    this.cluster = cluster;
    this.registry = registry;
    this.clusterTags = Tags.of("service", cluster.service());
    this.listener =
        new ClusterListener() {
          @Override
          public void endpointAdded(Endpoint endpoint) {
            add(endpoint);
          }

          @Override
          public void endpointRemoved(Endpoint endpoint) {
            remove(endpoint);
          }
        };
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
        previous.meters.forEach(registry::remove);
      }
      endpoints.put(address, new Bound(e, endpointMeters(e)));
    }
  }

  private void remove(Endpoint e) {
    synchronized (this) {
      Bound bound = endpoints.get(e.address());
      if (bound != null && bound.endpoint == e) {
        endpoints.remove(e.address());
        bound.meters.forEach(registry::remove);
      }
    }
  }

  private List<Meter> endpointMeters(Endpoint e) {
    ServiceInstance instance = e.instance();
    Tags tags =
        clusterTags.and(
            "endpoint", e.address(), "zone", instance.zone().isEmpty() ? "none" : instance.zone());
    String address = e.address();
    List<Meter> meters = new ArrayList<>(7);
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
        FunctionCounter.builder(CALLS, e, Endpoint::calls)
            .description("calls finished")
            .tags(tags)
            .register(registry));
    meters.add(
        FunctionCounter.builder(FAILURES, e, Endpoint::failures)
            .description("calls that ended in an endpoint failure")
            .tags(tags)
            .register(registry));
    return meters;
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
        b.meters.forEach(registry::remove);
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
