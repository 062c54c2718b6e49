package dev.switchboard.lb.e2e;

import dev.switchboard.lb.thrift.test.Echo;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
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
 * another server). No retries. Thread-safe.
 */
final class SocketTarget implements LoadTarget {
  private static final int TIMEOUT_MILLIS = 2_000;

  private final List<Integer> ports;
  private final AtomicInteger callers = new AtomicInteger();
  private final @Nullable HaProxy haproxy;

  private SocketTarget(List<Integer> ports, @Nullable HaProxy haproxy) {
    this.ports = List.copyOf(ports);
    this.haproxy = haproxy;
  }

  /** Straight to the server on {@code port}. */
  static SocketTarget direct(int port) {
    return new SocketTarget(List.of(port), null);
  }

  /** Straight to the servers on {@code ports}: caller i to {@code ports[i mod n]}. */
  static SocketTarget spread(List<Integer> ports) {
    return new SocketTarget(ports, null);
  }

  /** Through {@code haproxy}'s frontend. */
  static SocketTarget through(HaProxy haproxy) {
    return new SocketTarget(List.of(haproxy.port), haproxy);
  }

  @Override
  public Caller newCaller() {
    return new Connection(ports.get(callers.getAndIncrement() % ports.size()));
  }

  /** HAProxy's count of connection attempts to the server (new connections, not calls). */
  @Override
  public long attemptsTo(int server) throws IOException {
    if (haproxy == null) {
      throw new UnsupportedOperationException("a direct connection routes nothing");
    }
    HaProxy.ServerStat s = haproxy.stats().get(HaProxy.serverName(server));
    return s == null ? 0 : Math.max(s.connectAttempts(), s.sessions());
  }

  @Override
  public void awaitServing(int server, Duration timeout) throws IOException {
    if (haproxy != null) {
      haproxy.awaitUp(server, timeout);
    }
  }

  @Override
  public void close() {}

  /** One caller's connection, opened on first use and after every failure. */
  private static final class Connection implements Caller {
    private final int port;
    private @Nullable TTransport transport;
    private Echo.@Nullable Client client;

    Connection(int port) {
      this.port = port;
    }

    @Override
    public String echo(String payload) throws Exception {
      Echo.Client c = client;
      if (c == null) {
        c = open();
      }
      try {
        return c.echo(payload);
      } catch (Exception e) {
        close();
        throw e;
      }
    }

    private Echo.Client open() throws TTransportException {
      TTransport t = new TFramedTransport(new TSocket("127.0.0.1", port, TIMEOUT_MILLIS));
      t.open();
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
      client = null;
    }
  }
}
