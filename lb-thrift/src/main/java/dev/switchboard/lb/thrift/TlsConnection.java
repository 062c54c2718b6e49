package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLEngineResult;
import javax.net.ssl.SSLEngineResult.HandshakeStatus;
import javax.net.ssl.SSLException;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.transport.TNonblockingTransport;
import org.apache.thrift.transport.TTransportException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The server side of a TLS connection for the selector server: an {@link SSLEngine} over a
 * non-blocking channel, so a connection costs no thread while idle or while its handshake stalls.
 * Only the connection's selector thread reads and writes it.
 *
 * <p>Records are decrypted and encrypted in packet-sized buffers of the selector thread; a
 * connection keeps a copy only of the bytes left pending when a read or write returns, so an idle
 * connection holds its engine's state and no 16 KB packet buffers, and a call allocates none. A
 * peer that breaks the protocol (not TLS, a bad certificate, a reset) ends the connection with a
 * debug log, never a stack trace per peer.
 *
 * <p>A reply is reported written only once its last record left the socket, so the selector keeps
 * asking to write while ciphertext is pending. Requests pipelined ahead of a reply in one TLS
 * record wait for the peer's next packet; Thrift clients send one request per connection at a time.
 */
final class TlsConnection extends ServedConnection {
  private static final Logger logger = LoggerFactory.getLogger(TlsConnection.class);
  private static final ByteBuffer EMPTY = ByteBuffer.allocate(0);
  // How long a handshake flight may take to leave the socket: it fits an empty send buffer.
  private static final long HANDSHAKE_FLUSH_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final ThreadLocal<Scratch> SCRATCH = ThreadLocal.withInitial(Scratch::new);

  private final SSLEngine engine;
  private final Transport transport;
  // Pending bytes, each buffer kept flipped (position..limit is pending) or null when empty. While
  // a read or write runs they may be the thread's scratch buffers; keep() copies what is left.
  private @Nullable ByteBuffer netIn;
  private @Nullable ByteBuffer appIn;
  private @Nullable ByteBuffer netOut;
  // Bytes of the caller's buffer already wrapped whose ciphertext has not left the socket yet.
  private int heldBack;
  private boolean eof;

  TlsConnection(
      SocketChannel channel, SSLEngine engine, TConfiguration config, long now, Runnable onClose)
      throws TTransportException {
    super(channel, now, false);
    this.engine = engine;
    this.transport = new Transport(config, onClose);
  }

  @Override
  TNonblockingTransport transport() {
    return transport;
  }

  /** Reads plaintext into {@code dst}; -1 once the peer closed or broke the protocol. */
  private int readPlain(ByteBuffer dst) throws IOException {
    if (!isHandshakeFinished() && !handshake()) {
      return eof ? -1 : 0;
    }
    int start = dst.position();
    while (dst.hasRemaining() && !eof) {
      if (appIn != null) {
        transfer(appIn, dst);
        appIn = appIn.hasRemaining() ? appIn : null;
        continue;
      }
      if (netIn == null || !unwrapInto(dst)) {
        int n = fill();
        if (n < 0) {
          eof = true;
        } else if (n == 0) {
          break;
        }
      }
    }
    int read = dst.position() - start;
    return read == 0 && eof ? -1 : read;
  }

  /** Unwraps one record into dst (or appIn); false when more ciphertext is needed. */
  private boolean unwrapInto(ByteBuffer dst) throws IOException {
    int appSize = engine.getSession().getApplicationBufferSize();
    ByteBuffer target = dst.remaining() >= appSize ? dst : SCRATCH.get().appIn(appSize);
    SSLEngineResult result = engine.unwrap(netIn, target);
    if (target != dst) {
      target.flip();
      appIn = target.hasRemaining() ? target : null;
    }
    netIn = netIn.hasRemaining() ? netIn : null;
    switch (result.getStatus()) {
      case CLOSED:
        eof = true;
        return true;
      case BUFFER_UNDERFLOW:
        return false;
      case BUFFER_OVERFLOW: // the session's buffer size grew; the next round sizes from it
        return true;
      default:
        afterPostHandshakeMessage(result.getHandshakeStatus());
        return result.bytesConsumed() > 0 || result.bytesProduced() > 0;
    }
  }

  /** A key update or similar after the handshake may ask for tasks or a reply record. */
  private void afterPostHandshakeMessage(HandshakeStatus status) throws IOException {
    if (status == HandshakeStatus.NEED_TASK || status == HandshakeStatus.NEED_WRAP) {
      handshake();
    }
  }

  /** Moves the handshake on as far as the bytes at hand allow; true once it has finished. */
  private boolean handshake() throws IOException {
    while (true) {
      switch (engine.getHandshakeStatus()) {
        case NEED_TASK:
          for (Runnable task; (task = engine.getDelegatedTask()) != null; ) {
            task.run();
          }
          break;
        case NEED_WRAP:
          wrap(EMPTY);
          flushWithin(HANDSHAKE_FLUSH_NANOS);
          if (engine.isOutboundDone()) {
            eof = true;
            return false;
          }
          break;
        case NEED_UNWRAP:
        case NEED_UNWRAP_AGAIN:
          if (netIn == null || !unwrapHandshake()) {
            int n = fill();
            if (n <= 0) {
              eof |= n < 0;
              return false;
            }
          }
          if (eof) {
            return false;
          }
          break;
        default: // FINISHED or NOT_HANDSHAKING
          established(System.nanoTime());
          return true;
      }
    }
  }

  private boolean unwrapHandshake() throws IOException {
    int appSize = engine.getSession().getApplicationBufferSize();
    // Application data is rare here (a renegotiation's interleaved records) but must not be lost.
    ByteBuffer target = appIn == null ? SCRATCH.get().appIn(appSize) : ByteBuffer.allocate(appSize);
    SSLEngineResult result = engine.unwrap(netIn, target);
    netIn = netIn.hasRemaining() ? netIn : null;
    target.flip();
    if (target.hasRemaining()) {
      appIn =
          appIn == null
              ? target
              : ByteBuffer.allocate(appIn.remaining() + target.remaining())
                  .put(appIn)
                  .put(target)
                  .flip();
    }
    if (result.getStatus() == SSLEngineResult.Status.CLOSED) {
      eof = true;
    }
    return result.getStatus() != SSLEngineResult.Status.BUFFER_UNDERFLOW;
  }

  private boolean isHandshakeFinished() {
    HandshakeStatus status = engine.getHandshakeStatus();
    return status == HandshakeStatus.NOT_HANDSHAKING || status == HandshakeStatus.FINISHED;
  }

  /** Reads ciphertext from the channel into netIn. */
  private int fill() throws IOException {
    ByteBuffer buffer = SCRATCH.get().netIn(engine.getSession().getPacketBufferSize(), netIn);
    int n = channel().read(buffer);
    buffer.flip();
    netIn = buffer.hasRemaining() ? buffer : null;
    return n;
  }

  /** Writes plaintext from {@code src}; returns how much of it is now on the wire. */
  private int writePlain(ByteBuffer src) throws IOException {
    if (!flush()) {
      return 0;
    }
    int written = heldBack;
    src.position(src.position() + heldBack);
    heldBack = 0;
    while (src.hasRemaining()) {
      int before = src.position();
      wrap(src);
      if (!flush()) {
        heldBack = src.position() - before;
        src.position(before);
        break;
      }
      written += src.position() - before;
    }
    return written;
  }

  private void wrap(ByteBuffer src) throws IOException {
    ByteBuffer out = SCRATCH.get().netOut(engine.getSession().getPacketBufferSize(), netOut);
    SSLEngineResult result = engine.wrap(src, out);
    if (result.getStatus() == SSLEngineResult.Status.BUFFER_OVERFLOW) {
      throw new SSLException("TLS record larger than the session's packet buffer size");
    }
    out.flip();
    netOut = out.hasRemaining() ? out : null;
  }

  /** Copies bytes still pending out of the thread's scratch buffers, before the thread moves on. */
  private void keep() {
    Scratch scratch = SCRATCH.get();
    netIn = scratch.keep(netIn);
    appIn = scratch.keep(appIn);
    netOut = scratch.keep(netOut);
  }

  /** Writes pending ciphertext; true once none is left. */
  private boolean flush() throws IOException {
    while (netOut != null) {
      if (channel().write(netOut) == 0) {
        return false;
      }
      netOut = netOut.hasRemaining() ? netOut : null;
    }
    return true;
  }

  private void flushWithin(long nanos) throws IOException {
    long deadline = System.nanoTime() + nanos;
    while (!flush()) {
      if (System.nanoTime() - deadline > 0) {
        throw new SSLException("the peer does not read the TLS handshake");
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(1));
    }
  }

  private static void transfer(ByteBuffer from, ByteBuffer to) {
    int n = Math.min(from.remaining(), to.remaining());
    to.put(from.slice().limit(n));
    from.position(from.position() + n);
  }

  private void closeQuietly() {
    engine.closeOutbound();
    try {
      if (isHandshakeFinished()) {
        wrap(EMPTY); // close_notify, best effort: never wait for a peer to read it
        flush();
      }
    } catch (IOException | RuntimeException e) {
      logger.trace("close_notify to {} not sent", channel(), e);
    } finally {
      netIn = null;
      appIn = null;
      netOut = null;
    }
    try {
      channel().close();
    } catch (IOException e) {
      logger.trace("closing {} failed", channel(), e);
    }
  }

  private final class Transport extends TNonblockingTransport {
    private final Runnable onClose;

    Transport(TConfiguration config, Runnable onClose) throws TTransportException {
      super(config);
      this.onClose = onClose;
    }

    @Override
    public int read(ByteBuffer dst) throws TTransportException {
      try {
        int n = readPlain(dst);
        TlsConnection.this.read(dst, n, System.nanoTime());
        return n;
      } catch (IOException | RuntimeException e) {
        // Port scanners, plain-text clients, bad certificates, resets: routine, not an error here.
        logger.debug("TLS connection {} ended: {}", channel(), e.toString());
        return -1;
      } finally {
        keep();
      }
    }

    @Override
    public int write(ByteBuffer src) throws TTransportException {
      try {
        int n = writePlain(src);
        wrote(n, System.nanoTime());
        return n;
      } catch (IOException | RuntimeException e) {
        logger.debug("TLS connection {} ended while writing: {}", channel(), e.toString());
        return -1;
      } finally {
        keep();
      }
    }

    @Override
    public int read(byte[] buf, int off, int len) throws TTransportException {
      return read(ByteBuffer.wrap(buf, off, len));
    }

    @Override
    public void write(byte[] buf, int off, int len) throws TTransportException {
      ByteBuffer src = ByteBuffer.wrap(buf, off, len);
      if (write(src) < 0 || src.hasRemaining()) {
        throw new TTransportException(TTransportException.END_OF_FILE, "TLS write incomplete");
      }
    }

    @Override
    public SelectionKey registerSelector(Selector selector, int interests) throws IOException {
      return channel().register(selector, interests);
    }

    @Override
    public boolean isOpen() {
      return channel().isOpen() && !eof;
    }

    @Override
    public void open() {
      throw new UnsupportedOperationException("an accepted connection is already open");
    }

    @Override
    public boolean startConnect() {
      throw new UnsupportedOperationException("an accepted connection is already connected");
    }

    @Override
    public boolean finishConnect() {
      throw new UnsupportedOperationException("an accepted connection is already connected");
    }

    @Override
    public void close() {
      closeQuietly();
      onClose.run();
    }
  }

  /** A selector thread's packet buffers, lent to one connection at a time. */
  private static final class Scratch {
    private ByteBuffer netIn = ByteBuffer.allocate(0);
    private ByteBuffer appIn = ByteBuffer.allocate(0);
    private ByteBuffer netOut = ByteBuffer.allocate(0);

    /** The read buffer, cleared, holding {@code pending} first, with room for a packet. */
    ByteBuffer netIn(int packetSize, @Nullable ByteBuffer pending) {
      netIn = refill(netIn, packetSize, pending);
      return netIn;
    }

    ByteBuffer appIn(int size) {
      if (appIn.capacity() < size) {
        appIn = ByteBuffer.allocate(size);
      }
      return appIn.clear();
    }

    /** The write buffer, cleared, holding {@code pending} first, with room for a packet. */
    ByteBuffer netOut(int packetSize, @Nullable ByteBuffer pending) {
      netOut = refill(netOut, packetSize, pending);
      return netOut;
    }

    private static ByteBuffer refill(
        ByteBuffer scratch, int packetSize, @Nullable ByteBuffer pending) {
      if (pending == scratch) {
        scratch.compact();
        if (scratch.remaining() >= packetSize) {
          return scratch;
        }
        scratch.flip();
      }
      int pendingBytes = pending == null ? 0 : pending.remaining();
      ByteBuffer buffer =
          scratch.capacity() >= pendingBytes + packetSize && pending != scratch
              ? scratch.clear()
              : ByteBuffer.allocate(pendingBytes + packetSize);
      if (pending != null) {
        buffer.put(pending);
      }
      return buffer;
    }

    /** {@code buffer}, or a copy of its pending bytes when it is one of these scratch buffers. */
    @Nullable ByteBuffer keep(@Nullable ByteBuffer buffer) {
      if (buffer != netIn && buffer != appIn && buffer != netOut) {
        return buffer;
      }
      ByteBuffer copy = ByteBuffer.allocate(buffer.remaining()).put(buffer);
      return copy.flip();
    }
  }
}
