package dev.switchboard.lb.e2e;

import dev.switchboard.lb.thrift.test.Echo;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.jspecify.annotations.Nullable;

/**
 * Plain libthrift clients, one connection per caller: to a single server (the overhead baseline, no
 * balancing at all), spread over every server by caller, or to HAProxy's frontend. A call that
 * fails closes its connection; the caller's next call opens a new one (through HAProxy, possibly to
 * another server). No retries, except {@link #retryingThrough}'s: the fair client of a proxy, which
 * retries an idempotent call once on a new connection within the call's deadline. Thread-safe.
 */
final class SocketTarget implements LoadTarget {
  private static final int TIMEOUT_MILLIS = 2_000;

  private final List<Integer> ports;
  private final AtomicInteger callers = new AtomicInteger();
  private final @Nullable HaProxy haproxy;
  private final @Nullable Duration deadline;
  private volatile long lastFailedAttemptNanos = Long.MIN_VALUE;

  private SocketTarget(
      List<Integer> ports, @Nullable HaProxy haproxy, @Nullable Duration deadline) {
    this.ports = List.copyOf(ports);
    this.haproxy = haproxy;
    this.deadline = deadline;
  }

  /** Straight to the server on {@code port}. */
  static SocketTarget direct(int port) {
    return new SocketTarget(List.of(port), null, null);
  }

  /** Straight to the servers on {@code ports}: caller i to {@code ports[i mod n]}. */
  static SocketTarget spread(List<Integer> ports) {
    return new SocketTarget(ports, null, null);
  }

  /** Through {@code haproxy}'s frontend. */
  static SocketTarget through(HaProxy haproxy) {
    return new SocketTarget(List.of(haproxy.port), haproxy, null);
  }

  /**
   * Through {@code haproxy}'s frontend, each call with {@code deadline} (its read timeout) and, if
   * it fails with time left, sent once more on a new connection with the time that is left.
   */
  static SocketTarget retryingThrough(HaProxy haproxy, Duration deadline) {
    return new SocketTarget(List.of(haproxy.port), haproxy, deadline);
  }

  /**
   * When an attempt last failed ({@link System#nanoTime}), a retried one included, or {@link
   * Long#MIN_VALUE}: through HAProxy, the failed attempt's connection went to some server.
   */
  long lastFailedAttemptNanos() {
    return lastFailedAttemptNanos;
  }

  @Override
  public Caller newCaller() {
    Connection c = new Connection(ports.get(callers.getAndIncrement() % ports.size()));
    return deadline == null ? c : new RetryingCaller(c, deadline);
  }

  /**
   * HAProxy's counts of connections to the server and of bytes forwarded to and from it: grows with
   * every new connection and when a connection's bytes are counted (at its end at the latest).
   * Calls on a connection established earlier may not move it: for HAProxy, a lower bound.
   */
  @Override
  public long attemptsTo(int server) throws IOException {
    if (haproxy == null) {
      throw new UnsupportedOperationException("a direct connection routes nothing");
    }
    HaProxy.ServerStat s = haproxy.stats().get(HaProxy.serverName(server));
    return s == null ? 0 : Math.max(s.connectAttempts(), s.sessions()) + s.bytes();
  }

  @Override
  public void awaitServing(int server, Duration timeout) throws IOException {
    if (haproxy != null) {
      haproxy.awaitUp(server, timeout);
    }
  }

  @Override
  public void close() {}

  /** A connection whose failed call is retried once on a new one, within one deadline. */
  private final class RetryingCaller implements Caller {
    private final Connection connection;
    private final long deadlineNanos;

    RetryingCaller(Connection connection, Duration deadline) {
      this.connection = connection;
      this.deadlineNanos = deadline.toNanos();
    }

    @Override
    public String echo(String payload) throws Exception {
      long start = System.nanoTime();
      try {
        return connection.echo(payload, deadlineNanos);
      } catch (Exception first) {
        lastFailedAttemptNanos = System.nanoTime();
        long left = deadlineNanos - (System.nanoTime() - start);
        if (left < TimeUnit.MILLISECONDS.toNanos(1)) {
          throw first;
        }
        try {
          return connection.echo(payload, left); // the failure closed the old connection
        } catch (Exception second) {
          lastFailedAttemptNanos = System.nanoTime();
          second.addSuppressed(first);
          throw second;
        }
      }
    }

    @Override
    public void close() {
      connection.close();
    }
  }

  /** One caller's connection, opened on first use and after every failure. */
  private static final class Connection implements Caller {
    private final int port;
    private @Nullable TSocket socket;
    private @Nullable TTransport transport;
    private Echo.@Nullable Client client;

    Connection(int port) {
      this.port = port;
    }

    @Override
    public String echo(String payload) throws Exception {
      return echo(payload, TimeUnit.MILLISECONDS.toNanos(TIMEOUT_MILLIS));
    }

    /** One call that waits at most {@code timeoutNanos} for each read. */
    String echo(String payload, long timeoutNanos) throws Exception {
      Echo.Client c = client;
      if (c == null) {
        c = open();
      }
      try {
        socket.setSocketTimeout((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(timeoutNanos)));
        return c.echo(payload);
      } catch (Exception e) {
        close();
        throw e;
      }
    }

    private Echo.Client open() throws TTransportException {
      TSocket s = new TSocket("127.0.0.1", port, TIMEOUT_MILLIS);
      TTransport t = new TFramedTransport(s);
      t.open();
      socket = s;
      transport = t;
      client = new Echo.Client(new TBinaryProtocol(t));
      return client;
    }

    @Override
    public void close() {
      if (transport != null) {
        transport.close();
      }
      transport = null;
      socket = null;
      client = null;
    }
  }
}
