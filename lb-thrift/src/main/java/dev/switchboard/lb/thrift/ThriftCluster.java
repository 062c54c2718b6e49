package dev.switchboard.lb.thrift;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.Ticker;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Cluster} of Thrift servers with a connection pool per endpoint: the pooled, health-aware
 * transport picker. Pools open on demand, warm up new and revived endpoints with jitter, drop idle
 * connections of draining endpoints, and close when their endpoint leaves.
 *
 * <p>Every call holds a lease from before it waits for or opens a connection until its reply, so
 * the load the balancer sees for an endpoint includes calls queued on its pool and connects in
 * progress: with one call per connection, pool saturation is load.
 *
 * <p>Thread-safe.
 */
public final class ThriftCluster implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ThriftCluster.class);

  private final ThriftTransportConfig config;
  private final Map<Endpoint, TransportPool> pools = new ConcurrentHashMap<>();
  private final ScheduledThreadPoolExecutor maintenance;
  private final String name;
  private final LongAdder hedgesSent = new LongAdder();
  private final LongAdder hedgesWon = new LongAdder();
  private volatile @Nullable ExecutorService hedgeExecutor; // created by the first hedge
  private volatile @Nullable HedgeWatch hedgeWatch; // created by the first hedged call
  private final Cluster cluster;
  private final Ticker ticker;
  private volatile boolean closed;

  private ThriftCluster(Cluster.Builder builder, ThriftTransportConfig config, String name) {
    this.config = config;
    this.name = name;
    this.maintenance =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "switchboard-thrift-" + name);
              t.setDaemon(true);
              return t;
            });
    maintenance.setRemoveOnCancelPolicy(true);
    this.cluster =
        builder
            .maxInFlightPerEndpoint(config.maxConnectionsPerEndpoint())
            .listener(new PoolKeeper())
            .build();
    this.ticker = cluster.ticker();
    long sweep = Math.max(config.idleTimeout().toMillis() / 2, 100);
    maintenance.scheduleWithFixedDelay(this::evictIdle, sweep, sweep, TimeUnit.MILLISECONDS);
  }

  /**
   * Builds the cluster from {@code clusterBuilder} (registry, policy, health options) with
   * connection pools configured by {@code config}. The builder's in-flight limit is set to the
   * pool's connection limit.
   */
  public static ThriftCluster create(Cluster.Builder clusterBuilder, ThriftTransportConfig config) {
    Cluster.Builder b = java.util.Objects.requireNonNull(clusterBuilder, "clusterBuilder");
    java.util.Objects.requireNonNull(config, "config");
    return new ThriftCluster(b, config, Integer.toHexString(System.identityHashCode(b)));
  }

  /** The balancer underneath: snapshots, retry policy, ticker. */
  public Cluster cluster() {
    return cluster;
  }

  public ThriftTransportConfig transportConfig() {
    return config;
  }

  /** Borrows a transport to a picked endpoint for a call that carries nothing. */
  public LeasedTransport borrowTransport() throws ConnectFailedException {
    return borrowTransport(CallContext.builder().build());
  }

  /**
   * Picks an endpoint for {@code ctx} and borrows a connection to it. Endpoints that refuse the
   * connection are recorded as failed and others tried while the retry policy allows.
   *
   * @throws org.apache.thrift.transport.TTransportException if no endpoint accepted a connection
   */
  public LeasedTransport borrowTransport(CallContext ctx) throws ConnectFailedException {
    for (int attempt = 1; ; attempt++) {
      Lease lease = cluster.acquire(ctx);
      try {
        return new LeasedTransport(pool(lease.endpoint()), connect(lease), lease);
      } catch (ConnectFailedException e) {
        lease.complete(Outcome.CONNECT_FAILURE);
        OptionalLong delay = cluster.retryDelayNanos(ctx, lease, attempt);
        if (delay.isEmpty()) {
          throw e;
        }
        LockSupport.parkNanos(delay.getAsLong());
      } catch (RuntimeException | Error e) {
        lease.close();
        throw e;
      }
    }
  }

  /** A connection to the lease's endpoint, bounded by the call's deadline. */
  PooledConnection connect(Lease lease) throws ConnectFailedException {
    return pool(lease.endpoint()).borrow();
  }

  TransportPool pool(Endpoint endpoint) {
    TransportPool pool = pools.get(endpoint);
    if (pool != null) {
      return pool;
    }
    return pools.computeIfAbsent(endpoint, e -> new TransportPool(e.instance(), config, ticker));
  }

  /** Connection counts across every pool. */
  public PoolStats poolStats() {
    int open = 0;
    int idle = 0;
    long created = 0;
    for (TransportPool p : pools.values()) {
      open += p.open();
      idle += p.idle();
      created += p.created();
    }
    return new PoolStats(open, idle, created, pools.size());
  }

  private void evictIdle() {
    for (TransportPool p : pools.values()) {
      p.evictIdle();
    }
  }

  private void warmUp(Endpoint endpoint) {
    if (config.warmUpConnections() == 0 || closed) {
      return;
    }
    long jitter = config.warmUpJitter().toNanos();
    long delay = jitter == 0 ? 0 : ThreadLocalRandom.current().nextLong(jitter);
    maintenance.schedule(
        () -> {
          if (closed || endpoint.isRemoved()) {
            return;
          }
          TransportPool pool = pool(endpoint);
          if (endpoint.isClosed() && pools.remove(endpoint, pool)) {
            pool.close(); // it left while we were creating its pool
            return;
          }
          for (int i = 0;
              i < config.warmUpConnections() && pool.idle() < config.warmUpConnections();
              i++) {
            if (!pool.warmUp()) {
              logger.debug("Warm-up connect to {} failed", endpoint.address());
              return;
            }
          }
        },
        delay,
        TimeUnit.NANOSECONDS);
  }

  /** How many hedges (second attempts of slow idempotent calls) proxies of this cluster sent. */
  public long hedgesSent() {
    return hedgesSent.sum();
  }

  /** How many hedges answered before the attempt they backed up. */
  public long hedgesWon() {
    return hedgesWon.sum();
  }

  /** Watches a hedgeable call until it settles or its hedge is due. */
  void watchForHedge(HedgeWatch.Watched call) {
    HedgeWatch watch = hedgeWatch;
    if (watch == null) {
      synchronized (this) {
        watch = hedgeWatch;
        if (watch == null) {
          watch = new HedgeWatch(name);
          hedgeWatch = watch;
          if (closed) {
            watch.close();
          }
        }
      }
    }
    watch.watch(call);
  }

  /** Runs a hedge (a blocking call) on a thread of its own. */
  void runHedge(Runnable hedge) {
    ExecutorService executor = hedgeExecutor;
    if (executor == null) {
      synchronized (this) {
        executor = hedgeExecutor;
        if (executor == null) {
          AtomicInteger threads = new AtomicInteger();
          executor =
              Executors.newCachedThreadPool(
                  r -> {
                    Thread t =
                        new Thread(
                            r,
                            "switchboard-thrift-hedge-" + name + "-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                  });
          hedgeExecutor = executor;
          if (closed) {
            executor.shutdown();
          }
        }
      }
    }
    executor.execute(hedge);
  }

  void hedgeSent() {
    hedgesSent.increment();
  }

  void hedgeWon() {
    hedgesWon.increment();
  }

  /** Closes the cluster; every pool closes as its endpoint's last call finishes. Idempotent. */
  @Override
  public void close() {
    closed = true;
    cluster.close();
    maintenance.shutdownNow();
    synchronized (this) {
      HedgeWatch watch = hedgeWatch;
      if (watch != null) {
        watch.close();
      }
      ExecutorService executor = hedgeExecutor;
      if (executor != null) {
        executor.shutdown(); // running hedges finish within their calls' deadlines
      }
    }
    for (TransportPool p : pools.values()) {
      p.close();
    }
  }

  @Override
  public String toString() {
    return "ThriftCluster{" + cluster.service() + ", " + config + "}";
  }

  /** Keeps the pools in step with the cluster's members. */
  private final class PoolKeeper implements ClusterListener {
    @Override
    public void endpointAdded(Endpoint endpoint) {
      warmUp(endpoint);
    }

    @Override
    public void endpointRestored(Endpoint endpoint) {
      warmUp(endpoint);
    }

    @Override
    public void endpointRemoved(Endpoint endpoint) {
      TransportPool pool = pools.remove(endpoint);
      if (pool != null) {
        pool.close();
      }
    }

    @Override
    public void endpointEjected(Endpoint endpoint, long ejectionNanos) {
      TransportPool pool = pools.get(endpoint);
      if (pool != null) {
        pool.closeIdle();
      }
    }

    @Override
    public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
      if (to == Eligibility.DRAINING) {
        TransportPool pool = pools.get(endpoint);
        if (pool != null) {
          pool.closeIdle(); // the server is about to stop: do not reuse its connections
        }
      }
    }
  }
}
