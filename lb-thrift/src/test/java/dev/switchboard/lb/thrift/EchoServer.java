package dev.switchboard.lb.thrift;

import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.thrift.test.Echo;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.protocol.TProtocolFactory;
import org.apache.thrift.server.TServer;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.server.TThreadedSelectorServer;
import org.apache.thrift.transport.TNonblockingServerSocket;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * A plain libthrift server (no lb-thrift code) running an {@link EchoHandler} on 127.0.0.1 and a
 * port the system picks: the reference peer for client-side tests. Thread-safe.
 *
 * <p>{@link #close()} stops it and waits for its serving thread; close clients first, since a
 * thread-pool server's workers block reading from open connections until they close.
 */
public final class EchoServer implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(10);
  private static final int STOP_TIMEOUT_SECONDS = 5;

  private final TServer server;
  private final Thread thread;
  private final int port;
  private final EchoHandler handler;

  private EchoServer(TServer server, int port, EchoHandler handler) {
    this.server = server;
    this.port = port;
    this.handler = handler;
    this.thread = new Thread(server::serve, "echo-server-" + port);
    thread.setDaemon(true);
    thread.start();
    // Stopping a server that has not reached serve() yet would be undone by it, so wait.
    await("server on port " + port + " serving").atMost(START_TIMEOUT).until(server::isServing);
  }

  /**
   * Starts a {@link TThreadPoolServer} over plain sockets (no framing): one thread per connection,
   * the classic blocking Thrift server.
   */
  public static EchoServer threadPool(TProtocolFactory protocol) throws TTransportException {
    TServerSocket socket = new TServerSocket(new InetSocketAddress("127.0.0.1", 0));
    int port = socket.getServerSocket().getLocalPort();
    EchoHandler handler = new EchoHandler("127.0.0.1:" + port);
    TThreadPoolServer.Args args =
        new TThreadPoolServer.Args(socket)
            .processor(new Echo.Processor<>(handler))
            .protocolFactory(protocol)
            .minWorkerThreads(1)
            .maxWorkerThreads(64)
            .stopTimeoutVal(STOP_TIMEOUT_SECONDS)
            .stopTimeoutUnit(TimeUnit.SECONDS);
    return new EchoServer(new TThreadPoolServer(args), port, handler);
  }

  /**
   * Starts a {@link TThreadedSelectorServer}, the non-blocking server; its clients must use {@link
   * TFramedTransport}.
   */
  public static EchoServer framedSelector(TProtocolFactory protocol) throws TTransportException {
    TNonblockingServerSocket socket =
        new TNonblockingServerSocket(new InetSocketAddress("127.0.0.1", 0));
    int port = socket.getPort();
    EchoHandler handler = new EchoHandler("127.0.0.1:" + port);
    TThreadedSelectorServer.Args args =
        new TThreadedSelectorServer.Args(socket)
            .selectorThreads(1)
            .workerThreads(4)
            .stopTimeoutVal(STOP_TIMEOUT_SECONDS)
            .stopTimeoutUnit(TimeUnit.SECONDS);
    // No TFramedTransport.Factory here: the non-blocking servers read frames themselves.
    args.processor(new Echo.Processor<>(handler)).protocolFactory(protocol);
    return new EchoServer(new TThreadedSelectorServer(args), port, handler);
  }

  /** The port the server listens on, on 127.0.0.1. */
  public int port() {
    return port;
  }

  /** The handler answering this server's calls. */
  public EchoHandler handler() {
    return handler;
  }

  /**
   * Stops the server and waits until its serving thread has ended.
   *
   * @throws IllegalStateException if it does not end in time or the wait is interrupted
   */
  @Override
  public void close() {
    server.stop();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(2L * STOP_TIMEOUT_SECONDS));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while stopping server on port " + port, e);
    }
    if (thread.isAlive()) {
      throw new IllegalStateException("server on port " + port + " did not stop");
    }
  }
}
