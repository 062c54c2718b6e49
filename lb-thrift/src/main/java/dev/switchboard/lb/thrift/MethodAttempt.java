package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call.Attempt;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.nio.channels.SocketChannel;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.apache.thrift.protocol.TProtocol;
import org.jspecify.annotations.Nullable;

/**
 * One attempt of a generated client's method on a pooled connection to the lease's endpoint: the
 * connect and the read are bounded by the lease's attempt deadline, the connection goes back to the
 * pool only if its exchange finished cleanly, and an attempt the engine abandons (a hedge won, the
 * caller cancelled) has its connection closed, which ends its read at once. Thread-safe: each run
 * uses a connection of its own.
 */
final class MethodAttempt<I> implements Attempt<Object, Exception> {
  private final ThriftCluster thrift;
  private final Function<TProtocol, ? extends I> clientFactory;
  private final Method method;
  private final Object[] args;

  MethodAttempt(
      ThriftCluster thrift,
      Function<TProtocol, ? extends I> clientFactory,
      Method method,
      Object[] args) {
    this.thrift = thrift;
    this.clientFactory = clientFactory;
    this.method = method;
    this.args = args;
  }

  @Override
  public Object run(Lease lease) throws Exception {
    TransportPool pool = lease.resource(TransportPool.class);
    Claim claim = null;
    PooledConnection connection;
    if (lease.isCancellable()) {
      // Claimed before connecting: an attempt abandoned while its connect hangs (a host that
      // stopped answering) must not hold the caller for the connect timeout after a hedge won.
      Claim c = new Claim();
      claim = c;
      lease.onCancel(c::abort);
      connection = pool.borrow(thrift.connectMillis(lease), c::connecting);
      c.connected(connection);
    } else {
      connection = pool.borrow(thrift.connectMillis(lease));
    }
    boolean reusable = false;
    try {
      connection.setReadTimeout(thrift.readMillis(lease));
      I client = clientFactory.apply(connection.protocol);
      Object result;
      try {
        result = method.invoke(client, args);
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

  /** Runs the attempt on a thread of {@code executor}, for the asynchronous proxy. */
  CompletableFuture<Object> startOn(Lease lease, Executor executor) {
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
    return ThriftOutcomes.classify(error);
  }

  /**
   * Who ends a connection's use: its attempt (returning it to the pool) or the engine abandoning
   * the attempt (closing it, or the channel it is still connecting), whichever comes first; the
   * other leaves it alone. An abandoned connect fails as a connect failure, which the engine
   * records against the endpoint: a connect still pending after a hedge's delay is the endpoint's
   * failure, not the abandoning's. Thread-safe.
   */
  private static final class Claim {
    private final AtomicBoolean taken = new AtomicBoolean();
    private volatile @Nullable SocketChannel channel;
    private volatile @Nullable PooledConnection connection;

    /** A new connection's channel, before it connects. */
    void connecting(SocketChannel ch) {
      channel = ch;
      if (taken.get()) {
        closeQuietly(ch); // abandoned before the connect began
      }
    }

    /** The connection the attempt borrowed (new or idle). */
    void connected(PooledConnection c) {
      connection = c;
      if (taken.get()) {
        c.close(); // abandoned meanwhile: the call on it fails and the pool destroys it
      }
    }

    void abort() {
      if (taken.compareAndSet(false, true)) {
        PooledConnection c = connection;
        if (c != null) {
          c.close();
        } else {
          SocketChannel ch = channel;
          if (ch != null) {
            closeQuietly(ch); // ends a pending connect at once
          }
        }
      }
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
