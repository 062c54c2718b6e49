package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call.Attempt;
import dev.switchboard.lb.Call.Hedging;
import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.Ticker;
import java.io.IOException;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.async.TAsyncClientManager;
import org.apache.thrift.transport.TTransportException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Cluster} of Thrift servers with a connection pool per endpoint: the pooled, health-aware
 * transport picker. Each endpoint's pool is its {@link Endpoint#resource endpoint resource}: the
 * cluster opens it when the endpoint joins and closes it when the endpoint has left and its last
 * call finished. Pools warm up new and revived endpoints with jitter and drop idle connections of
 * draining and ejected endpoints.
 *
 * <p>Every call holds a lease from before it waits for or opens a connection until its reply, so
 * the load the balancer sees for an endpoint includes connects in progress: with one call per
 * connection, pool saturation is load. The call's deadline bounds the connect and the TLS handshake
 * as well as the read.
 *
 * <p>Thread-safe.
 */
public final class ThriftCluster implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ThriftCluster.class);

  private final ThriftTransportConfig config;
  private final Set<TransportPool> pools = ConcurrentHashMap.newKeySet();
  private final List<Hedging> hedgings = new CopyOnWriteArrayList<>();
  private final ScheduledThreadPoolExecutor maintenance;
  private final Cluster cluster;
  private volatile @Nullable Cluster built; // for the pools' ticker while the cluster is built
  private volatile boolean closed;
  private volatile @Nullable TAsyncClientManager asyncManager;

  private ThriftCluster(Cluster.Builder builder, ThriftTransportConfig config, String name) {
    this.config = config;
    this.maintenance =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "switchboard-thrift-" + name);
              t.setDaemon(true);
              return t;
            });
    maintenance.setRemoveOnCancelPolicy(true);
    Ticker ticker =
        () -> {
          Cluster c = built;
          return c == null ? System.nanoTime() : c.ticker().read();
        };
    this.cluster =
        builder
            .copy()
            .maxInFlightPerEndpoint(config.maxConnectionsPerEndpoint())
            .endpointResource(e -> openPool(e, ticker))
            .listener(new PoolKeeper())
            .build();
    this.built = cluster;
    long sweep =
        Math.max(TimeUnit.NANOSECONDS.toMillis(Timeouts.nanos(config.idleTimeout())) / 2, 100);
    maintenance.scheduleWithFixedDelay(this::evictIdle, sweep, sweep, TimeUnit.MILLISECONDS);
  }

  /**
   * Builds a cluster from a copy of {@code clusterBuilder} (registry, policy, health options; the
   * builder itself is not changed) with connection pools configured by {@code config}. The
   * cluster's in-flight limit per endpoint is the pool's connection limit.
   */
  public static ThriftCluster create(Cluster.Builder clusterBuilder, ThriftTransportConfig config) {
    Cluster.Builder b = Objects.requireNonNull(clusterBuilder, "clusterBuilder");
    Objects.requireNonNull(config, "config");
    return new ThriftCluster(b, config, Integer.toHexString(System.identityHashCode(b)));
  }

  private TransportPool openPool(Endpoint endpoint, Ticker ticker) {
    TransportPool pool = new TransportPool(endpoint.instance(), config, ticker, pools::remove);
    pools.add(pool);
    return pool;
  }

  /** The balancer underneath: snapshots, retry policy, ticker. */
  public Cluster cluster() {
    return cluster;
  }

  public ThriftTransportConfig transportConfig() {
    return config;
  }

  /** Borrows a transport to a picked endpoint for a call that carries nothing. */
  public LeasedTransport borrowTransport() throws TTransportException {
    return borrowTransport(CallContext.DEFAULT);
  }

  /**
   * Picks an endpoint for {@code ctx} and borrows a connection to it, within the call's deadline.
   * Endpoints that refuse the connection are recorded as failed and others tried while the retry
   * policy allows.
   *
   * @throws TTransportException if no endpoint accepted a connection (nothing was sent)
   * @throws dev.switchboard.lb.NoHealthyEndpointException if no endpoint is eligible
   */
  public LeasedTransport borrowTransport(CallContext ctx) throws TTransportException {
    return cluster
        .newCall(ctx)
        .run(
            new Attempt<LeasedTransport, TTransportException>() {
              @Override
              public LeasedTransport run(Lease lease) throws TTransportException {
                TransportPool pool = lease.resource(TransportPool.class);
                boolean retriedElsewhere = lease.attemptDeadlineNanos() - ctx.deadlineNanos() < 0;
                PooledConnection connection =
                    pool.borrow(connectMillis(lease), retriedElsewhere, channel -> {});
                lease.detach(); // the transport holds the lease until it is closed
                return new LeasedTransport(pool, connection, lease, config);
              }

              @Override
              public Outcome classify(Throwable error) {
                return ThriftOutcomes.classify(error);
              }
            });
  }

  /** The connect timeout, bounded by what is left of the lease's attempt. */
  int connectMillis(Lease lease) {
    return Timeouts.millis(lease.remainingNanos(Timeouts.nanos(config.connectTimeout())));
  }

  /** The read timeout, bounded by what is left of the lease's attempt. */
  int readMillis(Lease lease) {
    return Timeouts.millis(lease.remainingNanos(Timeouts.nanos(config.readTimeout())));
  }

  /**
   * The selector thread of this cluster's non-blocking asynchronous calls, started on first use.
   *
   * @throws IllegalStateException if the cluster is closed or the selector cannot start
   */
  TAsyncClientManager asyncManager() {
    TAsyncClientManager manager = asyncManager;
    if (manager == null) {
      synchronized (this) {
        if (closed) {
          throw new IllegalStateException(this + " is closed");
        }
        manager = asyncManager;
        if (manager == null) {
          try {
            manager = new TAsyncClientManager();
          } catch (IOException e) {
            throw new IllegalStateException("cannot start the asynchronous call selector", e);
          }
          asyncManager = manager;
        }
      }
    }
    return manager;
  }

  /** Connection counts across every pool. */
  public PoolStats poolStats() {
    int open = 0;
    int idle = 0;
    long created = 0;
    int count = 0;
    long kept = 0;
    long closed = 0;
    for (TransportPool p : pools) {
      open += p.open();
      idle += p.idle();
      created += p.created();
      kept += p.abandonedKept();
      closed += p.abandonedClosed();
      count++;
    }
    return new PoolStats(open, idle, created, count, kept, closed);
  }

  private void evictIdle() {
    for (TransportPool p : pools) {
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
          TransportPool pool = endpoint.resource(TransportPool.class);
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

  /** Counts {@code hedging}'s hedges in {@link #hedgesSent} and {@link #hedgesWon}. */
  void register(Hedging hedging) {
    hedgings.add(hedging);
  }

  /** How many hedges (second attempts of slow idempotent calls) proxies of this cluster sent. */
  public long hedgesSent() {
    return hedgings.stream().mapToLong(Hedging::sent).sum();
  }

  /** How many hedges answered before the attempt they backed up. */
  public long hedgesWon() {
    return hedgings.stream().mapToLong(Hedging::won).sum();
  }

  /** Closes the cluster; every pool closes as its endpoint's last call finishes. Idempotent. */
  @Override
  public void close() {
    synchronized (this) {
      closed = true;
      if (asyncManager != null) {
        asyncManager.stop();
      }
    }
    cluster.close();
    maintenance.shutdownNow();
  }

  @Override
  public String toString() {
    return "ThriftCluster{" + cluster.service() + ", " + config + "}";
  }

  /** Warms pools up and drops idle connections of endpoints that should not be reused. */
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
    public void endpointEjected(Endpoint endpoint, long ejectionNanos) {
      endpoint.resource(TransportPool.class).closeIdle();
    }

    @Override
    public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
      if (to == Eligibility.DRAINING) {
        // the server is about to stop: do not reuse its connections
        endpoint.resource(TransportPool.class).closeIdle();
      }
    }
  }
}
