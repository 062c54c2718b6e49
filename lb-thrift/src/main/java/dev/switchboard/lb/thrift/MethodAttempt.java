package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call.AsyncAttempt;
import dev.switchboard.lb.Call.Attempt;
import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.apache.thrift.protocol.TProtocol;
import org.jspecify.annotations.Nullable;

/**
 * One attempt of a generated client's method on a pooled connection to the lease's endpoint: the
 * connect and the read are bounded by the lease's attempt deadline, the connection goes back to the
 * pool only if its exchange finished cleanly, and an attempt the engine abandons (a hedge won, the
 * caller cancelled) stops waiting for its reply at once; the pool reads that reply in the
 * background and keeps the connection (see {@link SocketTransport}). The proxy's {@link
 * ThriftInterceptor}s run around each attempt ({@link AttemptChain}). Thread-safe: each run uses a
 * connection of its own.
 */
final class MethodAttempt<I> implements Attempt<Object, Exception> {
  private final ThriftCluster thrift;
  private final Function<TProtocol, ? extends I> clientFactory;
  private final Method method;
  private final Object[] args;
  private final List<ThriftInterceptor> interceptors;
  private final CallContext context;
  private final AtomicInteger attempts = new AtomicInteger();

  MethodAttempt(
      ThriftCluster thrift,
      Function<TProtocol, ? extends I> clientFactory,
      Method method,
      Object[] args,
      List<ThriftInterceptor> interceptors,
      CallContext context) {
    this.thrift = thrift;
    this.clientFactory = clientFactory;
    this.method = method;
    this.args = args;
    this.interceptors = interceptors;
    this.context = context;
  }

  @Override
  public Object run(Lease lease) throws Exception {
    int attempt = attempts.incrementAndGet();
    if (interceptors.isEmpty()) {
      return send(lease, args);
    }
    return new AttemptChain.Exchange(
            interceptors,
            method,
            thrift.cluster().service(),
            lease,
            attempt,
            context,
            a -> send(lease, a))
        .run(args);
  }

  /** Sends the call with {@code callArgs} on a pooled connection to the lease's endpoint. */
  private Object send(Lease lease, Object[] callArgs) throws Exception {
    TransportPool pool = lease.resource(TransportPool.class);
    Claim claim = null;
    PooledConnection connection;
    if (lease.isCancellable()) {
      // Claimed before connecting: an attempt abandoned while its connect hangs (a host that
      // stopped answering) must not hold the caller for the connect timeout after a hedge won.
      Claim c = new Claim();
      claim = c;
      lease.onCancel(c::abort);
      try {
        connection =
            pool.borrow(thrift.connectMillis(lease), retriedElsewhere(lease), c::connecting);
      } catch (ConnectFailedException e) {
        throw c.handshakeAbandoned() ? abandonedHandshake(e) : e;
      }
      connection.abandonable();
      if (!c.connected(connection)) {
        // Abandoned while borrowing (a hedge answered during a slow connect or idle check):
        // nothing was sent, so the connection goes back to the pool as it came.
        pool.keepUnused(connection);
        throw new InterruptedIOException("attempt abandoned before it was sent");
      }
    } else {
      connection = pool.borrow(thrift.connectMillis(lease), retriedElsewhere(lease), ch -> {});
    }
    boolean reusable = false;
    try {
      connection.setReadTimeout(thrift.readMillis(lease));
      I client = clientFactory.apply(connection.protocol);
      Object result;
      try {
        result = method.invoke(client, callArgs);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception ex) {
          reusable = ThriftOutcomes.connectionReusable(ex);
          throw ex;
        }
        throw (Error) cause;
      }
      reusable = true;
      return result;
    } finally {
      boolean ours = claim == null || claim.release();
      pool.release(connection, reusable && ours);
    }
  }

  /**
   * Whether a connect failure of this attempt would be retried on another endpoint: the engine
   * gives such an attempt a deadline before the call's (see {@link Lease#attemptDeadlineNanos}).
   */
  private boolean retriedElsewhere(Lease lease) {
    return lease.attemptDeadlineNanos() - context.deadlineNanos() < 0;
  }

  /**
   * A TLS handshake cut short by the abandoning: the host had accepted the connection, so the
   * abandoning, not the endpoint, ended it (a handshake may take longer than a hedge's delay).
   */
  private static InterruptedIOException abandonedHandshake(ConnectFailedException e) {
    InterruptedIOException abandoned =
        new InterruptedIOException("attempt abandoned during the TLS handshake");
    abandoned.initCause(e);
    return abandoned;
  }

  /**
   * This attempt run on a thread of {@code executor}, for the asynchronous proxy; its outcomes are
   * classified as the blocking attempt's (a declared exception is an answer, not a failure).
   */
  AsyncAttempt<Object> on(Executor executor) {
    return new AsyncAttempt<>() {
      @Override
      public CompletableFuture<Object> start(Lease lease) {
        return CompletableFuture.supplyAsync(
            () -> {
              try {
                return run(lease);
              } catch (Exception e) {
                throw new CompletionException(e);
              }
            },
            executor);
      }

      @Override
      public Outcome classify(Throwable error) {
        return MethodAttempt.this.classify(error);
      }
    };
  }

  @Override
  public Outcome classify(Throwable error) {
    return ThriftOutcomes.classify(error);
  }

  /**
   * Who ends a connection's use: its attempt (returning it to the pool) or the engine abandoning
   * the attempt (ending its wait for the reply, or closing the channel it is still connecting),
   * whichever comes first; the other leaves it alone. An abandoned connect fails as a connect
   * failure, which the engine records against the endpoint: a connect still pending after a hedge's
   * delay is the endpoint's failure, not the abandoning's. Thread-safe.
   */
  private static final class Claim {
    private final AtomicBoolean taken = new AtomicBoolean();
    private volatile @Nullable SocketChannel channel;
    private volatile @Nullable PooledConnection connection;
    private volatile boolean handshakeAbandoned;

    /** A new connection's channel, before it connects. */
    void connecting(SocketChannel ch) {
      channel = ch;
      if (taken.get()) {
        closeQuietly(ch); // abandoned before the connect began
      }
    }

    /** The connection the attempt borrowed (new or idle); false if abandoned meanwhile. */
    boolean connected(PooledConnection c) {
      connection = c;
      return !taken.get();
    }

    void abort() {
      if (taken.compareAndSet(false, true)) {
        PooledConnection c = connection;
        if (c != null) {
          c.abandon(); // ends a wait for the reply; the pool drains it and keeps the connection
        } else {
          SocketChannel ch = channel;
          if (ch != null) {
            handshakeAbandoned = ch.isConnected(); // TCP done: the TLS handshake was running
            closeQuietly(ch); // ends a pending connect at once
          }
        }
      }
    }

    /** Whether the abandoning closed a connection whose TCP connect had finished. */
    boolean handshakeAbandoned() {
      return handshakeAbandoned;
    }

    /** The attempt is done with the connection; false if it was aborted first. */
    boolean release() {
      return taken.compareAndSet(false, true);
    }

    private static void closeQuietly(SocketChannel ch) {
      try {
        ch.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }
}
