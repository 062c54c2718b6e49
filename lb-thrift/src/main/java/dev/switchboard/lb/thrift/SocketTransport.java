package dev.switchboard.lb.thrift;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.transport.TIOStreamTransport;
import org.apache.thrift.transport.TTransportException;
import org.jspecify.annotations.Nullable;

/*
 * Abandoning a reply without closing its connection
 * -------------------------------------------------
 * Classic Thrift has one call per connection and no way to cancel a call, so an attempt the call
 * engine abandons (a hedge answered first, the caller cancelled) used to have its connection
 * closed: that is what ended its blocked read, and a slow server then cost one new connection per
 * won hedge. Instead, while a call that may be abandoned waits for the first byte of its reply, it
 * waits on a selector rather than in a blocking read; abandon() wakes it, and it fails with
 * ReplyAbandonedException having read nothing of the reply. The connection is then still in step
 * (the reply is whole, on its way), so the pool reads that reply in the background, bounded by
 * the read timeout, and keeps the connection (Finagle and grpc keep a connection whose stream was
 * cancelled). Once bytes of the reply have arrived the call reads on to its end: a reply that is
 * arriving costs little to finish. Calls that cannot be abandoned read as a plain TSocket does.
 *
 * Under TLS the selector sees the encrypted socket: a readable socket may carry only a
 * post-handshake message (a TLS 1.3 session ticket), so the read after it is bounded by a short
 * timeout and the wait resumes when it brings no data.
 *
 * close() closes quietly: TIOStreamTransport.close() logs a WARN with a stack trace when the
 * output stream cannot be flushed (a socket the peer reset), which a pool closing broken
 * connections must not do for every one.
 */

/** A socket's Thrift transport whose wait for a reply can be abandoned. Not thread-safe. */
final class SocketTransport extends TIOStreamTransport {
  /** How long a TLS read may wait for the rest of a record once the socket was readable. */
  private static final int TLS_RECORD_MILLIS = 5;

  private final SocketChannel channel;
  private final Socket socket;
  private final boolean tls;
  private final ReplyInput input;
  private volatile boolean abandoned;
  private volatile @Nullable Selector selector;
  private boolean abandonable;
  private boolean awaitingReply;
  private boolean abandonedBeforeReply;

  /**
   * A transport over {@code socket}: {@code channel}'s own socket or a TLS socket layered on it.
   */
  SocketTransport(SocketChannel channel, Socket socket) throws IOException, TTransportException {
    this.channel = channel;
    this.socket = socket;
    this.tls = socket != channel.socket();
    this.input = new ReplyInput(socket.getInputStream());
    inputStream_ = new BufferedInputStream(input, 1024);
    outputStream_ = new BufferedOutputStream(socket.getOutputStream(), 1024);
  }

  /** Lets the next waits for a reply be abandoned ({@link #abandon()}); reset by {@link #reset}. */
  void abandonable(boolean abandonable) {
    this.abandonable = abandonable;
  }

  /**
   * Abandons the call waiting on this transport: a wait for the first byte of its reply ends at
   * once with {@link ReplyAbandonedException}; a reply already arriving is read to its end.
   * Thread-safe.
   */
  void abandon() {
    abandoned = true;
    Selector s = selector;
    if (s != null) {
      s.wakeup();
    }
  }

  /** Whether the last call was abandoned before any byte of its reply was read. */
  boolean abandonedBeforeReply() {
    return abandonedBeforeReply;
  }

  /** Whether the last call was abandoned at all. */
  boolean abandoned() {
    return abandoned;
  }

  /** Forgets the last call's abandonment, before the connection's next use. */
  void reset() {
    abandoned = false;
    abandonable = false;
    abandonedBeforeReply = false;
  }

  @Override
  public void flush() throws TTransportException {
    super.flush();
    awaitingReply = true;
  }

  /** Bytes received and not yet read by the transport (undecrypted, under TLS). */
  int bytesWaiting() {
    try {
      return channel.socket().getInputStream().available();
    } catch (IOException e) {
      return -1;
    }
  }

  /**
   * Whether the idle connection is usable: open, the peer has not closed it, and it sent nothing
   * unasked. A plain socket is checked with a non-blocking read, which consumes nothing when
   * nothing came. Under TLS, bytes that came are read through the TLS socket for a moment: a
   * post-handshake message (a TLS 1.3 session ticket) is processed and leaves the connection
   * usable; application data, a close_notify or an end of stream do not.
   */
  boolean looksAlive() {
    if (!isOpen() || socket.isClosed() || !channel.isOpen()) {
      return false;
    }
    try {
      if (tls && (bytesWaiting() > 0 || input.in.available() > 0)) {
        return !tlsDataWaiting();
      }
      channel.configureBlocking(false);
      try {
        return channel.read(ByteBuffer.allocate(1)) == 0; // 1 byte under TLS: now out of step
      } finally {
        channel.configureBlocking(true);
      }
    } catch (IOException | RuntimeException e) {
      return false;
    }
  }

  /** Reads through the TLS socket for a moment; true if data, an end or an error came. */
  private boolean tlsDataWaiting() throws IOException {
    int timeout = socket.getSoTimeout();
    socket.setSoTimeout(1);
    try {
      input.in.read(); // a byte of data, or the end of the stream: either way not reusable
      return true;
    } catch (SocketTimeoutException nothingButHandshake) {
      return false;
    } finally {
      socket.setSoTimeout(timeout);
    }
  }

  @Override
  public void close() {
    closeQuietly(inputStream_);
    try {
      socket.close();
    } catch (IOException ignored) {
      // closing anyway
    }
    try {
      channel.close();
    } catch (IOException ignored) {
      // nothing left to do
    }
    Selector s = selector;
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // nothing left to do
      }
    }
    inputStream_ = null;
    outputStream_ = null;
  }

  @Override
  public boolean isOpen() {
    return inputStream_ != null && channel.isOpen();
  }

  private static void closeQuietly(@Nullable InputStream in) {
    if (in != null) {
      try {
        in.close();
      } catch (IOException ignored) {
        // closing anyway
      }
    }
  }

  /**
   * Waits until the raw socket is readable (data or an end of stream), {@code nanos} pass or the
   * call is abandoned; true if readable.
   */
  private boolean awaitReadable(long nanos) throws IOException {
    Selector s = selector;
    if (s == null) {
      s = Selector.open();
      selector = s;
    }
    channel.configureBlocking(false);
    SelectionKey key = channel.register(s, SelectionKey.OP_READ);
    try {
      if (abandoned) {
        return false;
      }
      int ready = s.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(nanos)));
      s.selectedKeys().clear();
      return ready > 0;
    } finally {
      key.cancel();
      s.selectNow(); // deregisters, so the channel may block again
      channel.configureBlocking(true);
    }
  }

  /** The first read of a reply that may be abandoned. */
  private int readFirst(byte[] b, int off, int len) throws IOException {
    int timeout = socket.getSoTimeout();
    long deadline =
        timeout == 0 ? Long.MAX_VALUE : System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeout);
    try {
      while (true) {
        if (abandoned) {
          abandonedBeforeReply = true;
          throw new ReplyAbandonedException();
        }
        if (Thread.currentThread().isInterrupted()) {
          // a selector returns at once for an interrupted thread: the wait would spin to its end
          throw new InterruptedIOException("interrupted while awaiting the reply");
        }
        if (input.in.available() > 0) {
          return input.in.read(b, off, len); // decrypted data already buffered
        }
        long left = deadline == Long.MAX_VALUE ? Long.MAX_VALUE : deadline - System.nanoTime();
        if (left <= 0) {
          throw new SocketTimeoutException("Read timed out");
        }
        if (!awaitReadable(left) || abandoned) {
          continue; // woken, or timed out: the loop decides
        }
        socket.setSoTimeout(tls ? TLS_RECORD_MILLIS : timeout);
        try {
          return input.in.read(b, off, len);
        } catch (SocketTimeoutException noDataYet) {
          // a TLS record without data (a session ticket) or one still arriving: wait again
        } finally {
          socket.setSoTimeout(timeout);
        }
      }
    } finally {
      socket.setSoTimeout(timeout);
    }
  }

  /** The call engine gave up on this reply before any of it arrived. */
  static final class ReplyAbandonedException extends InterruptedIOException {
    ReplyAbandonedException() {
      super("reply abandoned: another attempt answered or the call was cancelled");
    }
  }

  /** The socket's input, abandonable while a reply's first byte is awaited. */
  private final class ReplyInput extends InputStream {
    final InputStream in;

    ReplyInput(InputStream in) {
      this.in = in;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      int n = read(one, 0, 1);
      return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      int n = awaitingReply && abandonable ? readFirst(b, off, len) : in.read(b, off, len);
      if (n > 0) {
        awaitingReply = false;
      }
      return n;
    }

    @Override
    public int available() throws IOException {
      return in.available();
    }

    @Override
    public void close() throws IOException {
      in.close();
    }
  }
}
