package dev.switchboard.lb.thrift;

import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.ToDoubleFunction;
import org.jspecify.annotations.Nullable;

/**
 * Publishes a {@link ThriftCluster}'s connection pools and hedges to a Micrometer {@link
 * MeterRegistry}, beside the cluster's own meters ({@link
 * dev.switchboard.lb.metrics.ClusterMetrics}). Tag {@code service}:
 *
 * <ul>
 *   <li>gauges {@value #OPEN} and {@value #IDLE}: connections open (idle or in use) and idle now;
 *   <li>function counter {@value #CREATED}: connections opened (by pools of current members);
 *   <li>function counter {@value #ABANDONED} with tag {@code fate}: connections of abandoned
 *       attempts (a hedge answered first, the caller cancelled) {@code kept} after their reply was
 *       drained, or {@code closed};
 *   <li>function counter {@value #HEDGES} with tag {@code result}: hedges {@code sent}, and those
 *       that {@code won} (answered before the attempt they backed up).
 * </ul>
 *
 * <p>Micrometer is an optional dependency of lb-thrift: only this class needs it. Thread-safe.
 */
public final class ThriftMetrics implements AutoCloseable {
  public static final String OPEN = "switchboard.thrift.connections.open";
  public static final String IDLE = "switchboard.thrift.connections.idle";
  public static final String CREATED = "switchboard.thrift.connections.created";
  public static final String ABANDONED = "switchboard.thrift.connections.abandoned";
  public static final String HEDGES = "switchboard.thrift.hedges";

  private final MeterRegistry registry;
  private final List<Meter> meters = new ArrayList<>();

  private ThriftMetrics(ThriftCluster cluster, MeterRegistry registry) {
    this.registry = registry;
    String service = cluster.cluster().service();
    gauge(OPEN, service, cluster, c -> c.poolStats().open());
    gauge(IDLE, service, cluster, c -> c.poolStats().idle());
    counter(CREATED, service, null, null, cluster, c -> c.poolStats().created());
    counter(ABANDONED, service, "fate", "kept", cluster, c -> c.poolStats().abandonedKept());
    counter(ABANDONED, service, "fate", "closed", cluster, c -> c.poolStats().abandonedClosed());
    counter(HEDGES, service, "result", "sent", cluster, ThriftCluster::hedgesSent);
    counter(HEDGES, service, "result", "won", cluster, ThriftCluster::hedgesWon);
  }

  /** Registers {@code cluster}'s meters in {@code registry}; close the result to remove them. */
  public static ThriftMetrics bind(ThriftCluster cluster, MeterRegistry registry) {
    return new ThriftMetrics(
        Objects.requireNonNull(cluster, "cluster"), Objects.requireNonNull(registry, "registry"));
  }

  private void gauge(
      String name, String service, ThriftCluster cluster, ToDoubleFunction<ThriftCluster> value) {
    meters.add(Gauge.builder(name, cluster, value).tag("service", service).register(registry));
  }

  private void counter(
      String name,
      String service,
      @Nullable String tag,
      @Nullable String tagValue,
      ThriftCluster cluster,
      ToDoubleFunction<ThriftCluster> value) {
    FunctionCounter.Builder<ThriftCluster> b =
        FunctionCounter.builder(name, cluster, value).tag("service", service);
    if (tag != null) {
      b.tag(tag, tagValue);
    }
    meters.add(b.register(registry));
  }

  /** Removes the meters. */
  @Override
  public void close() {
    meters.forEach(registry::remove);
    meters.clear();
  }
}
