package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.transport.TNonblockingServerTransport;
import org.apache.thrift.transport.TNonblockingTransport;
import org.apache.thrift.transport.TTransportException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The listening socket of {@link ThriftServer}'s selector server, plain or TLS. It keeps a record
 * of every accepted connection and reaps those idle longer than the idle timeout and those whose
 * TLS handshake did not finish within the handshake timeout, so neither idle pools nor stalled
 * peers use up the server: no connection holds a thread while it waits.
 */
final class SelectorServerSocket extends TNonblockingServerTransport {
  private static final Logger logger = LoggerFactory.getLogger(SelectorServerSocket.class);
  private static final long ACCEPT_BACKOFF_NANOS = TimeUnit.MILLISECONDS.toNanos(10);

  private final ServerSocketChannel channel;
  private final @Nullable SSLContext sslContext;
  private final boolean requireClientAuth;
  private final TConfiguration config;
  private final long idleNanos;
  private final long handshakeNanos;
  private final IntSupplier callsInFlight;
  private final Set<ServedConnection> connections = ConcurrentHashMap.newKeySet();
  private final ScheduledExecutorService reaper;
  private long lastAcceptWarning = System.nanoTime() - TimeUnit.SECONDS.toNanos(1);

  SelectorServerSocket(
      InetSocketAddress bind,
      @Nullable SSLContext sslContext,
      boolean requireClientAuth,
      TConfiguration config,
      Duration idleTimeout,
      Duration handshakeTimeout,
      IntSupplier callsInFlight)
      throws TTransportException {
    this.sslContext = sslContext;
    this.requireClientAuth = requireClientAuth;
    this.config = config;
    this.idleNanos = idleTimeout.toNanos();
    this.handshakeNanos = handshakeTimeout.toNanos();
    this.callsInFlight = callsInFlight;
    try {
      channel = ServerSocketChannel.open();
      channel.configureBlocking(false);
      channel.setOption(StandardSocketOptions.SO_REUSEADDR, true);
      channel.bind(bind, 1024);
    } catch (IOException e) {
      close();
      throw new TTransportException("cannot listen on " + bind + ": " + e.getMessage(), e);
    }
    long period = Math.max(Math.min(Math.min(idleNanos, handshakeNanos) / 4, 1_000_000_000L), 10);
    reaper =
        Executors.newSingleThreadScheduledExecutor(
            task -> {
              Thread thread = new Thread(task, "switchboard-thrift-reaper-" + port());
              thread.setDaemon(true);
              return thread;
            });
    reaper.scheduleWithFixedDelay(this::reap, period, period, TimeUnit.NANOSECONDS);
  }

  int port() {
    return channel.socket().getLocalPort();
  }

  /** Connections open now (handshaking, idle or busy). */
  int connections() {
    return connections.size();
  }

  @Override
  public void listen() {
    // bound in the constructor, so the port is known before serving starts
  }

  @Override
  public @Nullable TNonblockingTransport accept() throws TTransportException {
    SocketChannel accepted;
    try {
      accepted = channel.accept();
    } catch (IOException e) {
      // Out of file descriptors, typically: back off instead of spinning on a ready socket.
      long now = System.nanoTime();
      if (now - lastAcceptWarning > TimeUnit.SECONDS.toNanos(1)) {
        lastAcceptWarning = now;
        logger.warn("Port {} cannot accept connections: {}", port(), e.toString());
      }
      LockSupport.parkNanos(ACCEPT_BACKOFF_NANOS);
      return null;
    }
    if (accepted == null) {
      return null;
    }
    try {
      accepted.configureBlocking(false);
      accepted.setOption(StandardSocketOptions.TCP_NODELAY, true);
      ServedConnection connection = serve(accepted);
      connections.add(connection);
      return connection.transport();
    } catch (IOException | TTransportException | RuntimeException e) {
      logger.debug("Dropping connection {}: {}", accepted, e.toString());
      try {
        accepted.close();
      } catch (IOException ignored) {
        // already failing
      }
      return null;
    }
  }

  private ServedConnection serve(SocketChannel accepted) throws IOException, TTransportException {
    long now = System.nanoTime();
    ServedConnection[] self = new ServedConnection[1];
    Runnable onClose = () -> connections.remove(self[0]);
    if (sslContext == null) {
      self[0] = new ServedConnection.Plain(accepted, config, now, onClose);
    } else {
      SSLEngine engine = sslContext.createSSLEngine();
      engine.setUseClientMode(false);
      engine.setNeedClientAuth(requireClientAuth);
      engine.beginHandshake();
      self[0] = new TlsConnection(accepted, engine, config, now, onClose);
    }
    return self[0];
  }

  private void reap() {
    long now = System.nanoTime();
    boolean busy = callsInFlight.getAsInt() > 0;
    for (ServedConnection connection : connections) {
      String reason = connection.reapReason(now, idleNanos, handshakeNanos, busy);
      if (reason != null) {
        logger.debug("Closing connection {}: {}", connection.channel(), reason);
        connections.remove(connection);
        connection.reap();
      }
    }
  }

  @Override
  public void registerSelector(Selector selector) {
    try {
      channel.register(selector, SelectionKey.OP_ACCEPT);
    } catch (IOException e) {
      throw new IllegalStateException("cannot register port " + port() + " for accepts", e);
    }
  }

  @Override
  public void close() {
    if (reaper != null) {
      reaper.shutdownNow();
    }
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException e) {
        logger.debug("Closing port {} failed", port(), e);
      }
    }
  }

  @Override
  public void interrupt() {
    close();
  }
}
