package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.transport.TNonblockingSocket;
import org.apache.thrift.transport.TTransportException;

/**
 * One accepted connection of the selector server, as the idle reaper sees it. Its selector thread
 * records I/O; the reaper reads the record and, to close an idle or never-established connection,
 * shuts its input down: the selector then reads end-of-stream and closes it on its own thread, the
 * way a client's close would be handled.
 */
abstract class ServedConnection {
  private final SocketChannel channel;
  private final long acceptedAt;
  private volatile long lastIoAt;
  private volatile boolean established;
  private volatile boolean awaitingReply;

  ServedConnection(SocketChannel channel, long now, boolean established) {
    this.channel = channel;
    this.acceptedAt = now;
    this.lastIoAt = now;
    this.established = established;
  }

  /** The transport the selector server reads and writes. */
  abstract org.apache.thrift.transport.TNonblockingTransport transport();

  final SocketChannel channel() {
    return channel;
  }

  /** Marks a finished TLS handshake. */
  final void established(long now) {
    established = true;
    lastIoAt = now;
  }

  /**
   * Records a read into {@code dst}. The selector server reads a 4-byte frame size, then the frame
   * into a buffer of its exact size: a filled buffer larger than 4 bytes is a whole request.
   */
  final void read(ByteBuffer dst, int bytes, long now) {
    if (bytes > 0) {
      lastIoAt = now;
      if (!dst.hasRemaining() && dst.capacity() > 4) {
        awaitingReply = true;
      }
    }
  }

  final void wrote(int bytes, long now) {
    if (bytes > 0) {
      lastIoAt = now;
      awaitingReply = false;
    }
  }

  /**
   * Why this connection should be closed now, or null. A connection whose request is being
   * processed is never idle (a oneway request has no reply, so that only counts while the server
   * has calls in flight).
   */
  final String reapReason(long now, long idleNanos, long handshakeNanos, boolean callsInFlight) {
    if (!established) {
      return now - acceptedAt > handshakeNanos ? "TLS handshake timed out" : null;
    }
    if (awaitingReply && callsInFlight) {
      return null;
    }
    return now - lastIoAt > idleNanos ? "idle" : null;
  }

  /** Ends the connection from another thread; its selector thread closes it. */
  final void reap() {
    try {
      channel.shutdownInput();
    } catch (IOException e) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // nothing more to do: the channel is unusable either way
      }
    }
  }

  /** A plain TCP connection: libthrift's non-blocking socket, with its I/O recorded. */
  static final class Plain extends ServedConnection {
    private final Transport transport;

    Plain(SocketChannel channel, TConfiguration config, long now, Runnable onClose)
        throws IOException, TTransportException {
      super(channel, now, true);
      this.transport = new Transport(channel, config, onClose);
    }

    @Override
    org.apache.thrift.transport.TNonblockingTransport transport() {
      return transport;
    }

    private final class Transport extends TNonblockingSocket {
      private final Runnable onClose;

      Transport(SocketChannel channel, TConfiguration config, Runnable onClose)
          throws IOException, TTransportException {
        super(channel);
        setMaxFrameSize(config.getMaxFrameSize());
        this.onClose = onClose;
      }

      @Override
      public int read(ByteBuffer dst) throws TTransportException {
        int n = super.read(dst);
        Plain.this.read(dst, n, System.nanoTime());
        return n;
      }

      @Override
      public int write(ByteBuffer src) throws TTransportException {
        int n = super.write(src);
        wrote(n, System.nanoTime());
        return n;
      }

      @Override
      public void close() {
        super.close();
        onClose.run();
      }
    }
  }
}
