package dev.switchboard.lb.thrift;

import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.Ticker;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Borrowing an idle pooled connection and returning it (no I/O on it), against a listening socket
 * on 127.0.0.1. Run with {@code -t 1} (uncontended) and {@code -t 2}.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@State(Scope.Benchmark)
public class TransportPoolBenchmark {
  private ServerSocket server;
  private final List<Socket> accepted = new CopyOnWriteArrayList<>();
  private TransportPool pool;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  accepted.add(server.accept());
                } catch (IOException closed) {
                  return;
                }
              }
            },
            "bench-acceptor");
    acceptor.setDaemon(true);
    acceptor.start();
    ThriftTransportConfig config =
        ThriftTransportConfig.builder()
            .pool(16, 16)
            .idle(Duration.ofMinutes(10), Duration.ofMinutes(10))
            .warmUp(0, Duration.ZERO)
            .build();
    pool =
        new TransportPool(
            ServiceInstance.builder("bench", "127.0.0.1", server.getLocalPort()).build(),
            config,
            Ticker.system());
    for (int i = 0; i < 4; i++) {
      if (!pool.warmUp()) {
        throw new IllegalStateException("cannot connect to the benchmark's own socket");
      }
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() throws IOException {
    pool.close();
    server.close();
    for (Socket s : accepted) {
      s.close();
    }
  }

  @Benchmark
  public PooledConnection borrowAndReturn() throws ConnectFailedException {
    PooledConnection c = pool.borrow(1_000);
    pool.release(c, true);
    return c;
  }
}
