package dev.switchboard.lb.thrift;

import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.Ticker;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Iterator;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.thrift.transport.TNonblockingSocket;
import org.apache.thrift.transport.TTransportException;
import org.jspecify.annotations.Nullable;

/**
 * Non-blocking connections to one endpoint, for asynchronous calls: a call borrows one, the
 * cluster's selector thread connects it (if new), writes the request and reads the reply, and the
 * call returns it. Idle connections are checked before reuse once idle past the validation time,
 * without a thread: a non-blocking read of what the server sent unasked (nothing, if healthy).
 * Thread-safe.
 */
final class NonblockingPool implements AutoCloseable {
  private final ServiceInstance instance;
  private final ThriftTransportConfig config;
  private final Ticker ticker;
  private final long idleTimeoutNanos;
  private final long validateAfterNanos;
  private final Deque<Idle> idle = new ArrayDeque<>();
  private final AtomicLong created = new AtomicLong();
  private boolean closed;

  private record Idle(Socket socket, long since) {}

  /** A non-blocking socket that remembers whether it ever connected (nothing sent before that). */
  static final class Socket extends TNonblockingSocket {
    private volatile boolean connected;

    Socket(String host, int port) throws IOException, TTransportException {
      super(host, port);
    }

    @Override
    public boolean startConnect() throws IOException {
      boolean done = super.startConnect();
      connected |= done;
      return done;
    }

    @Override
    public boolean finishConnect() throws IOException {
      boolean done = super.finishConnect();
      connected |= done;
      return done;
    }

    /** Whether the connect ever finished: if not, the server received nothing from it. */
    boolean everConnected() {
      return connected || isOpen();
    }
  }

  NonblockingPool(ServiceInstance instance, ThriftTransportConfig config, Ticker ticker) {
    this.instance = instance;
    this.config = config;
    this.ticker = ticker;
    this.idleTimeoutNanos = Timeouts.nanos(config.idleTimeout());
    this.validateAfterNanos = Timeouts.nanos(config.validateAfterIdle());
  }

  /**
   * An idle connection that still looks alive, else a new one not connected yet (the selector
   * connects it as the call starts).
   *
   * @throws ConnectFailedException if no socket can be opened at all
   */
  Socket borrow() throws ConnectFailedException {
    for (Idle c; (c = pollIdle()) != null; ) {
      long idleFor = ticker.read() - c.since;
      if (idleFor < idleTimeoutNanos && (idleFor < validateAfterNanos || looksAlive(c.socket))) {
        return c.socket;
      }
      c.socket.close();
    }
    try {
      Socket socket = new Socket(instance.host(), instance.port());
      socket.setMaxFrameSize(config.maxFrameSize());
      created.incrementAndGet();
      return socket;
    } catch (IOException | TTransportException e) {
      throw new ConnectFailedException("cannot open a socket to " + instance.address(), e);
    }
  }

  /** Takes back {@code socket}: kept if {@code reusable} and there is room, else closed. */
  void release(Socket socket, boolean reusable) {
    synchronized (idle) {
      if (reusable && !closed && socket.isOpen() && idle.size() < config.maxIdlePerEndpoint()) {
        idle.addFirst(new Idle(socket, ticker.read()));
        return;
      }
    }
    socket.close();
  }

  long created() {
    return created.get();
  }

  int idle() {
    synchronized (idle) {
      return idle.size();
    }
  }

  private @Nullable Idle pollIdle() {
    synchronized (idle) {
      return idle.pollFirst();
    }
  }

  /** Nothing to read and not closed: a healthy idle Thrift connection has no unasked bytes. */
  private static boolean looksAlive(Socket socket) {
    try {
      return socket.getSocketChannel().read(ByteBuffer.allocate(1)) == 0;
    } catch (IOException e) {
      return false;
    }
  }

  /** Closes idle connections older than the idle timeout; returns how many. */
  int evictIdle() {
    long now = ticker.read();
    int evicted = 0;
    synchronized (idle) {
      for (Iterator<Idle> it = idle.iterator(); it.hasNext(); ) {
        Idle c = it.next();
        if (now - c.since >= idleTimeoutNanos) {
          it.remove();
          c.socket.close();
          evicted++;
        }
      }
    }
    return evicted;
  }

  /** Closes every idle connection (the endpoint is draining or leaving). */
  void closeIdle() {
    synchronized (idle) {
      for (Idle c : idle) {
        c.socket.close();
      }
      idle.clear();
    }
  }

  @Override
  public void close() {
    synchronized (idle) {
      closed = true;
    }
    closeIdle();
  }
}
