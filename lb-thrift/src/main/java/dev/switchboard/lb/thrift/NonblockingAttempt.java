package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call.AsyncAttempt;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.thrift.TException;
import org.apache.thrift.async.AsyncMethodCallback;
import org.apache.thrift.async.TAsyncClient;
import org.apache.thrift.transport.TTransportException;

/**
 * One attempt of a generated asynchronous client's method on a non-blocking connection to the
 * lease's endpoint. No thread waits for it: the cluster's selector thread connects, writes and
 * reads, bounded by the lease's attempt deadline, and completes the attempt's future. The
 * connection goes back to the pool only after a clean exchange; an attempt the engine abandons (a
 * hedge won, the caller cancelled) has its connection closed. Thread-safe.
 */
final class NonblockingAttempt<A> implements AsyncAttempt<Object> {
  private final ThriftCluster thrift;
  private final AsyncClientFactory<? extends A> clients;
  private final Method method;
  private final Object[] args;

  /** {@code args} of {@code method} of the {@code AsyncIface}, without the callback. */
  NonblockingAttempt(
      ThriftCluster thrift, AsyncClientFactory<? extends A> clients, Method method, Object[] args) {
    this.thrift = thrift;
    this.clients = clients;
    this.method = method;
    this.args = args;
  }

  @Override
  public CompletableFuture<Object> start(Lease lease) {
    CompletableFuture<Object> result = new CompletableFuture<>();
    NonblockingPool pool = lease.resource(TransportPool.class).nonblocking();
    NonblockingPool.Socket socket;
    try {
      socket = pool.borrow();
    } catch (ConnectFailedException e) {
      result.completeExceptionally(e);
      return result;
    }
    boolean connected = socket.everConnected();
    // Who ends the connection's use: the exchange (returning it) or the engine abandoning it.
    AtomicBoolean ended = new AtomicBoolean();
    AtomicBoolean abandoned = new AtomicBoolean();
    if (lease.isCancellable()) {
      lease.onCancel(
          () -> {
            if (ended.compareAndSet(false, true)) {
              abandoned.set(true);
              socket.close();
            }
          });
    }
    AsyncMethodCallback<Object> callback =
        new AsyncMethodCallback<>() {
          @Override
          public void onComplete(Object response) {
            if (ended.compareAndSet(false, true)) {
              pool.release(socket, true);
            }
            result.complete(response);
          }

          @Override
          public void onError(Exception error) {
            // Closed by the abandoning (a hedge answered during a connect storm, say): not the
            // endpoint's failure, whatever the selector saw.
            Exception e =
                abandoned.get()
                    ? (Exception) new InterruptedIOException("attempt abandoned").initCause(error)
                    : translate(error, socket);
            if (ended.compareAndSet(false, true)) {
              pool.release(socket, ThriftOutcomes.connectionReusable(e));
            }
            result.completeExceptionally(e);
          }
        };
    try {
      A client =
          clients.create(
              thrift.transportConfig().protocol().factory(), thrift.asyncManager(), socket);
      ((TAsyncClient) client).setTimeout(timeoutMillis(lease, connected));
      Object[] callArgs = Arrays.copyOf(args, args.length + 1);
      callArgs[args.length] = callback;
      method.invoke(client, callArgs);
    } catch (InvocationTargetException e) {
      callback.onError(e.getCause() instanceof Exception ex ? ex : new TException(e.getCause()));
    } catch (ReflectiveOperationException | RuntimeException e) {
      callback.onError(new TException("cannot start " + method.getName() + ": " + e, e));
    }
    return result;
  }

  /** The whole exchange's bound: connect (for a new connection) and read, within the attempt. */
  private int timeoutMillis(Lease lease, boolean connected) {
    ThriftTransportConfig config = thrift.transportConfig();
    long bound = Timeouts.nanos(config.readTimeout());
    if (!connected) {
      bound = Math.addExact(bound, Timeouts.nanos(config.connectTimeout()));
    }
    return Timeouts.millis(lease.remainingNanos(bound));
  }

  /**
   * The selector's errors in the terms {@link ThriftOutcomes} classifies: the server's answer (a
   * declared exception, which libthrift's asynchronous client delivers by closing the connection),
   * nothing sent when the connection never opened, a timeout, or a broken connection.
   */
  static Exception translate(Exception error, NonblockingPool.Socket socket) {
    if (error instanceof TException && !(error instanceof TTransportException)) {
      return error;
    }
    if (!socket.everConnected()) {
      return new ConnectFailedException("cannot connect: " + error, error);
    }
    if (error instanceof TimeoutException) {
      return new TTransportException(TTransportException.TIMED_OUT, error.getMessage(), error);
    }
    if (error instanceof IOException) {
      return new TTransportException(TTransportException.UNKNOWN, error.getMessage(), error);
    }
    return error;
  }

  @Override
  public Outcome classify(Throwable error) {
    return ThriftOutcomes.classify(error);
  }
}
