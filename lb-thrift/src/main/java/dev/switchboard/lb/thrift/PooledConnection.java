package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.nio.channels.SocketChannel;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TProtocolUtil;
import org.apache.thrift.protocol.TType;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;

/**
 * One open connection to one endpoint: a socket on a {@link SocketChannel} (so an idle connection
 * can be checked for a closed peer without blocking, and a wait for a reply can be abandoned),
 * optionally TLS, wrapped as a Thrift transport and protocol. Used by one call at a time; not
 * thread-safe, except {@link #abandon()}.
 */
final class PooledConnection {
  private final SocketChannel channel;
  private final Socket socket;
  private final SocketTransport socketTransport;
  final TTransport transport;
  final ExchangeProtocol protocol;
  final long createdNanos;
  long idleSinceNanos;

  private PooledConnection(
      SocketChannel channel,
      Socket socket,
      SocketTransport socketTransport,
      ThriftTransportConfig config,
      long now)
      throws TTransportException {
    this.channel = channel;
    this.socket = socket;
    this.socketTransport = socketTransport;
    this.transport =
        config.framed()
            ? new TFramedTransport(socketTransport, config.maxFrameSize())
            : socketTransport;
    this.protocol = new ExchangeProtocol(config.protocol().wrap(transport), config.framed());
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
    return open(host, port, config, now, connectMillis, connectMillis, channel -> {}, n -> {});
  }

  /**
   * As {@link #open(String, int, ThriftTransportConfig, long, int)}, with the TCP connect bounded
   * by {@code tcpMillis} and the TLS handshake by {@code connectMillis}; {@code connecting} gets
   * the channel before it connects, so another thread can abort the connect by closing it, and
   * {@code connected} the nanoseconds a successful TCP connect took.
   */
  static PooledConnection open(
      String host,
      int port,
      ThriftTransportConfig config,
      long now,
      int tcpMillis,
      int connectMillis,
      Consumer<SocketChannel> connecting,
      LongConsumer connected)
      throws ConnectFailedException {
    SocketChannel channel = null;
    try {
      channel = SocketChannel.open();
      connecting.accept(channel);
      Socket raw = channel.socket();
      raw.setTcpNoDelay(true);
      raw.setKeepAlive(true);
      long start = System.nanoTime();
      raw.connect(new InetSocketAddress(host, port), tcpMillis);
      connected.accept(System.nanoTime() - start);
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
      return new PooledConnection(
          channel, socket, new SocketTransport(channel, socket), config, now);
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
   * sent anything unasked (see {@link SocketTransport#looksAlive()}).
   */
  boolean looksAlive() {
    return socketTransport.looksAlive();
  }

  /** Bytes received on the socket and not read yet (still encrypted, under TLS). */
  int bytesWaiting() {
    return socketTransport.bytesWaiting();
  }

  /** The current call may be abandoned by {@link #abandon()} (it is hedged or asynchronous). */
  void abandonable() {
    socketTransport.abandonable(true);
  }

  /**
   * Abandons the current call: if it is still waiting for its reply, the wait ends at once and the
   * pool reads the reply in the background; a reply already arriving is read by the call. Never
   * closes the connection. Thread-safe.
   */
  void abandon() {
    socketTransport.abandon();
  }

  /**
   * Whether the last call was abandoned; with nothing of its reply read, if {@code beforeReply}.
   */
  boolean wasAbandoned(boolean beforeReply) {
    return beforeReply ? socketTransport.abandonedBeforeReply() : socketTransport.abandoned();
  }

  /**
   * Reads and drops the replies still owed on this connection (those of an abandoned call), each
   * within {@code readMillis}; true if the connection is clean afterwards.
   */
  boolean drainReplies(int readMillis) {
    socketTransport.reset();
    try {
      setReadTimeout(readMillis);
      while (!protocol.isClean()) {
        protocol.readMessageBegin();
        TProtocolUtil.skip(protocol, TType.STRUCT);
        protocol.readMessageEnd();
      }
      return true;
    } catch (TException | RuntimeException e) {
      return false;
    }
  }

  /** Ready for the next call: forgets the last call's abandonment. */
  void resetUse() {
    socketTransport.reset();
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
