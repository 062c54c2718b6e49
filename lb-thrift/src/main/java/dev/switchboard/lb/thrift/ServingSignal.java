package dev.switchboard.lb.thrift;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.server.ServerContext;
import org.apache.thrift.server.TServer;
import org.apache.thrift.server.TServerEventHandler;
import org.apache.thrift.transport.TTransport;

/**
 * Tells when a libthrift server accepts connections, so {@code ThriftServer} registers it only
 * then. Install it with {@link TServer#setServerEventHandler} before {@code serve()}. Thread-safe.
 */
final class ServingSignal implements TServerEventHandler {
  private final CountDownLatch preServe = new CountDownLatch(1);

  /**
   * Waits until {@code server} has called {@link #preServe()} and reports serving. Both, because
   * TThreadPoolServer calls preServe() before it clears its stopped flag: a stop() that lands
   * between the two is lost, and its accept loop then spins on the closed socket forever. Once
   * isServing() is true the flag is clear and stop() works.
   *
   * @return whether it started within the timeout
   */
  boolean await(TServer server, long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    if (!preServe.await(timeout, unit)) {
      return false;
    }
    while (!server.isServing()) { // a few microseconds after preServe()
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted while waiting for the server to serve");
      }
    }
    return true;
  }

  @Override
  public void preServe() {
    preServe.countDown();
  }

  @Override
  public ServerContext createContext(TProtocol input, TProtocol output) {
    return NoContext.INSTANCE; // some servers dereference the context: never null
  }

  @Override
  public void deleteContext(ServerContext context, TProtocol input, TProtocol output) {}

  @Override
  public void processContext(
      ServerContext context, TTransport inputTransport, TTransport outputTransport) {}

  /** An empty per-connection context. */
  private static final class NoContext implements ServerContext {
    static final NoContext INSTANCE = new NoContext();

    @Override
    public <T> T unwrap(Class<T> type) {
      throw new UnsupportedOperationException("no server context");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
      return false;
    }
  }
}
