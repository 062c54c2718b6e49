package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * One open connection to one endpoint: a socket on a {@link SocketChannel} (so an idle connection
 * can be checked for a closed peer without blocking), optionally TLS, wrapped as a Thrift transport
 * and protocol. Used by one call at a time; not thread-safe.
 */
final class PooledConnection {
  private final SocketChannel channel;
  private final Socket socket;
  final TTransport transport;
  final ExchangeProtocol protocol;
  final long createdNanos;
  long idleSinceNanos;

  private PooledConnection(
      SocketChannel channel,
      Socket socket,
      TTransport transport,
      ThriftTransportConfig config,
      long now) {
    this.channel = channel;
    this.socket = socket;
    this.transport = transport;
    this.protocol = new ExchangeProtocol(config.protocol().wrap(transport));
    this.createdNanos = now;
    this.idleSinceNanos = now;
  }

  /**
   * Connects to {@code host:port} within {@code connectMillis} (the connect and the TLS handshake
   * each); any failure is a {@link ConnectFailedException}.
   */
  static PooledConnection open(
      String host, int port, ThriftTransportConfig config, long now, int connectMillis)
      throws ConnectFailedException {
    return open(host, port, config, now, connectMillis, channel -> {});
  }

  /**
   * As {@link #open(String, int, ThriftTransportConfig, long, int)}; {@code connecting} gets the
   * channel before it connects, so another thread can abort the connect by closing it.
   */
  static PooledConnection open(
      String host,
      int port,
      ThriftTransportConfig config,
      long now,
      int connectMillis,
      Consumer<SocketChannel> connecting)
      throws ConnectFailedException {
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open();
      connecting.accept(channel);
      Socket raw = channel.socket();
      raw.setTcpNoDelay(true);
      raw.setKeepAlive(true);
      raw.connect(new InetSocketAddress(host, port), connectMillis);
      Socket socket = raw;
      if (config.sslContext() != null) {
        SSLSocket ssl =
            (SSLSocket) config.sslContext().getSocketFactory().createSocket(raw, host, port, true);
        ssl.setUseClientMode(true);
        if (config.verifyHostname()) {
          SSLParameters params = ssl.getSSLParameters();
          params.setEndpointIdentificationAlgorithm("HTTPS");
          ssl.setSSLParameters(params);
        }
        ssl.setSoTimeout(connectMillis);
        ssl.startHandshake();
        socket = ssl;
      }
      socket.setSoTimeout(Timeouts.millis(config.readTimeout()));
      TTransport transport = new TSocket(socket);
      if (config.framed()) {
        transport = new TFramedTransport(transport, config.maxFrameSize());
      }
      return new PooledConnection(channel, socket, transport, config, now);
    } catch (IOException | TTransportException | RuntimeException e) {
      closeQuietly(channel);
      throw new ConnectFailedException(
          "cannot connect to " + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** Whether every call sent on this connection had its reply read, with no protocol error. */
  boolean isClean() {
    return protocol.isClean();
  }

  /** Bounds the wait for the next read. */
  void setReadTimeout(int millis) throws TTransportException {
    try {
      socket.setSoTimeout(Math.max(1, millis));
    } catch (SocketException e) {
      throw new TTransportException(TTransportException.NOT_OPEN, "socket closed", e);
    }
  }

  /**
   * Whether the idle connection still looks usable: open, and the peer has neither closed it nor
   * sent anything unasked (checked with one non-blocking read of the channel).
   */
  boolean looksAlive() {
    if (!transport.isOpen() || socket.isClosed() || !channel.isOpen()) {
      return false;
    }
    try {
      channel.configureBlocking(false);
      int n = channel.read(ByteBuffer.allocate(1));
      channel.configureBlocking(true);
      return n == 0;
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  void close() {
    try {
      transport.close();
    } catch (RuntimeException ignored) {
      // closing anyway
    }
    closeQuietly(channel);
  }

  private static void closeQuietly(SocketChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing left to do
      }
    }
  }
}
