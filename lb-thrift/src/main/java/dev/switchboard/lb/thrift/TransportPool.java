package dev.switchboard.lb.thrift;

import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.Ticker;
import java.nio.channels.SocketChannel;
import java.util.Iterator;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;

/**
 * The connections to one endpoint: the idle ones kept most-recently-used first, opened on demand
 * when none is idle. The number in use is bounded by the cluster's in-flight limit (one call per
 * connection), the number idle by {@code maxIdlePerEndpoint}. A connection that failed in any way
 * is closed, never reused; one idle too long is closed; one idle a while is checked before reuse. A
 * connection whose call was abandoned while it waited for its reply (a hedge won, the caller
 * cancelled) has that reply read and dropped on a drain thread, within the read timeout, and is
 * then kept like any other (see {@link SocketTransport}).
 *
 * <p>Thread-safe and lock-free.
 */
final class TransportPool implements AutoCloseable {
  private final ServiceInstance instance;
  private final ThriftTransportConfig config;
  private final Ticker ticker;
  private final long idleTimeoutNanos;
  private final long validateAfterNanos;
  private final ConcurrentLinkedDeque<PooledConnection> idle = new ConcurrentLinkedDeque<>();
  private final AtomicInteger idleCount = new AtomicInteger();
  private final AtomicInteger open = new AtomicInteger();
  private final AtomicLong created = new AtomicLong();
  private final AtomicInteger draining = new AtomicInteger();
  private final AtomicLong abandonedKept = new AtomicLong();
  private final AtomicLong abandonedClosed = new AtomicLong();
  private volatile boolean closed;
  private final Consumer<TransportPool> onClose;
  private volatile @Nullable NonblockingPool nonblocking;
  private final ConnectTimes connectTimes = new ConnectTimes();

  TransportPool(ServiceInstance instance, ThriftTransportConfig config, Ticker ticker) {
    this(instance, config, ticker, p -> {});
  }

  TransportPool(
      ServiceInstance instance,
      ThriftTransportConfig config,
      Ticker ticker,
      Consumer<TransportPool> onClose) {
    this.onClose = onClose;
    this.instance = instance;
    this.config = config;
    this.ticker = ticker;
    this.idleTimeoutNanos = Timeouts.nanos(config.idleTimeout());
    this.validateAfterNanos = Timeouts.nanos(config.validateAfterIdle());
  }

  /**
   * An idle connection that still looks alive, else a new one connected within {@code
   * connectMillis}.
   */
  PooledConnection borrow(int connectMillis) throws ConnectFailedException {
    return borrow(connectMillis, channel -> {});
  }

  /** As {@link #borrow(int)}; a new connection's channel goes to {@code connecting} first. */
  PooledConnection borrow(int connectMillis, Consumer<SocketChannel> connecting)
      throws ConnectFailedException {
    return borrow(connectMillis, false, connecting);
  }

  /**
   * As {@link #borrow(int, Consumer)}; if {@code retriedElsewhere} (a connect failure would be
   * retried on another endpoint), a new connection's TCP connect is given up after a few times this
   * endpoint's usual connect time (see {@link ConnectTimes}), its TLS handshake still gets {@code
   * connectMillis}.
   */
  PooledConnection borrow(
      int connectMillis, boolean retriedElsewhere, Consumer<SocketChannel> connecting)
      throws ConnectFailedException {
    long now = ticker.read();
    PooledConnection c;
    while ((c = idle.pollFirst()) != null) {
      idleCount.decrementAndGet();
      long idleFor = now - c.idleSinceNanos;
      if (idleFor < idleTimeoutNanos && (idleFor < validateAfterNanos || c.looksAlive())) {
        return c;
      }
      destroy(c);
    }
    if (closed) {
      throw new ConnectFailedException(
          "connection pool of " + instance.address() + " is closed", new IllegalStateException());
    }
    int tcpMillis =
        retriedElsewhere
            ? Timeouts.millis(connectTimes.boundNanos(TimeUnit.MILLISECONDS.toNanos(connectMillis)))
            : connectMillis;
    c =
        PooledConnection.open(
            instance.host(),
            instance.port(),
            config,
            now,
            tcpMillis,
            connectMillis,
            connecting,
            connectTimes::record);
    open.incrementAndGet();
    created.incrementAndGet();
    return c;
  }

  /**
   * Returns a connection after a call: kept idle if the caller says it is reusable, every reply
   * sent for on it was read (see {@link ExchangeProtocol}), and there is room.
   */
  void release(PooledConnection c, boolean reusable) {
    if (c.wasAbandoned(true) && !closed) {
      drain(c);
      return;
    }
    if (c.wasAbandoned(false) && !reusable) {
      abandonedClosed.incrementAndGet(); // abandoned while its reply was arriving
    }
    c.resetUse();
    if (!reusable || !c.isClean() || closed || idleCount.get() >= config.maxIdlePerEndpoint()) {
      destroy(c);
      return;
    }
    c.idleSinceNanos = ticker.read();
    idle.offerFirst(c);
    idleCount.incrementAndGet();
    if (closed) {
      closeIdle(); // raced with close(): do not strand it
    }
  }

  /** Takes back a connection of an abandoned attempt that sent nothing on it: kept, unused. */
  void keepUnused(PooledConnection c) {
    abandonedKept.incrementAndGet();
    release(c, true);
  }

  /**
   * Reads the abandoned call's reply on a drain thread and keeps the connection if that leaves it
   * clean; closes it if the reply does not come within the read timeout, or too many connections of
   * this endpoint are draining already.
   */
  private void drain(PooledConnection c) {
    if (draining.incrementAndGet() > config.maxConnectionsPerEndpoint()) {
      draining.decrementAndGet();
      abandonedClosed.incrementAndGet();
      destroy(c);
      return;
    }
    try {
      Drainer.EXECUTOR.execute(
          () -> {
            boolean clean = c.drainReplies(Timeouts.millis(config.readTimeout()));
            draining.decrementAndGet();
            (clean ? abandonedKept : abandonedClosed).incrementAndGet();
            release(c, clean);
          });
    } catch (RejectedExecutionException e) {
      draining.decrementAndGet();
      abandonedClosed.incrementAndGet();
      destroy(c);
    }
  }

  /** Opens one connection and parks it idle (warm-up); returns false if it could not connect. */
  boolean warmUp() {
    if (closed || idleCount.get() >= config.maxIdlePerEndpoint()) {
      return false;
    }
    try {
      int connectMillis = Timeouts.millis(config.connectTimeout());
      PooledConnection c =
          PooledConnection.open(
              instance.host(),
              instance.port(),
              config,
              ticker.read(),
              connectMillis,
              connectMillis,
              channel -> {},
              connectTimes::record);
      open.incrementAndGet();
      created.incrementAndGet();
      release(c, true);
      return true;
    } catch (ConnectFailedException e) {
      return false;
    }
  }

  /** Closes idle connections older than the idle timeout; returns how many. */
  int evictIdle() {
    long now = ticker.read();
    NonblockingPool n = nonblocking;
    int evicted = n == null ? 0 : n.evictIdle();
    for (Iterator<PooledConnection> it = idle.descendingIterator(); it.hasNext(); ) {
      PooledConnection c = it.next();
      if (now - c.idleSinceNanos >= idleTimeoutNanos && idle.removeLastOccurrence(c)) {
        idleCount.decrementAndGet();
        destroy(c);
        evicted++;
      }
    }
    return evicted;
  }

  /** Closes every idle connection (the endpoint is draining or leaving). */
  void closeIdle() {
    NonblockingPool n = nonblocking;
    if (n != null) {
      n.closeIdle();
    }
    PooledConnection c;
    while ((c = idle.pollFirst()) != null) {
      idleCount.decrementAndGet();
      destroy(c);
    }
  }

  private void destroy(PooledConnection c) {
    c.close();
    open.decrementAndGet();
  }

  /** Connections open now, idle or in use. */
  int open() {
    return open.get();
  }

  int idle() {
    return idleCount.get();
  }

  long created() {
    return created.get();
  }

  /** The endpoint's non-blocking connections, for asynchronous calls; made on first use. */
  NonblockingPool nonblocking() {
    NonblockingPool pool = nonblocking;
    if (pool == null) {
      synchronized (this) {
        pool = nonblocking;
        if (pool == null) {
          pool = new NonblockingPool(instance, config, ticker);
          nonblocking = pool;
          if (closed) {
            pool.close();
          }
        }
      }
    }
    return pool;
  }

  /** Connections of abandoned calls kept after their reply was drained. */
  long abandonedKept() {
    return abandonedKept.get();
  }

  /** Connections of abandoned calls closed (reply arriving, not drained in time, or too many). */
  long abandonedClosed() {
    return abandonedClosed.get();
  }

  /** Closes idle connections now and the others as their calls finish; idempotent. */
  @Override
  public void close() {
    closed = true;
    synchronized (this) {
      if (nonblocking != null) {
        nonblocking.close();
      }
    }
    closeIdle();
    onClose.accept(this);
  }

  @Override
  public String toString() {
    return "TransportPool{" + instance.address() + ", open=" + open + ", idle=" + idleCount + "}";
  }

  /** The drain threads, shared by every pool: made on demand, gone after a minute idle. */
  private static final class Drainer {
    static final ExecutorService EXECUTOR = executor();

    private static ExecutorService executor() {
      AtomicInteger threads = new AtomicInteger();
      return new ThreadPoolExecutor(
          0,
          Integer.MAX_VALUE,
          60,
          TimeUnit.SECONDS,
          new SynchronousQueue<>(),
          r -> {
            Thread t = new Thread(r, "switchboard-thrift-drain-" + threads.incrementAndGet());
            t.setDaemon(true);
            return t;
          });
    }
  }
}
