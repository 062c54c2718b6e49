package dev.switchboard.lb.thrift;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.TException;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/**
 * Echo calls to one {@link ThriftServer} on 127.0.0.1 (framed, the default transport), over TLS or
 * plain TCP, through a pooled client: the server's cost per call. Run with {@code -t 4}.
 */
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@State(Scope.Benchmark)
public class TlsServerBenchmark {
  private ThriftServer server;
  private ThriftCluster cluster;
  private Echo.Iface echo;
  private Path dir;

  /** TLS, or plain TCP for the same server without it. */
  @Param({"true", "false"})
  public boolean tls;

  @Setup(Level.Trial)
  public void setUp() throws Exception {
    dir = Files.createTempDirectory("tls-bench");
    TestCertificates certs = TestCertificates.create(dir);
    StaticRegistry registry = new StaticRegistry();
    EchoHandler handler = new EchoHandler();
    ThriftServer.Builder b =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .registry(registry)
            .drain(Duration.ZERO, Duration.ofSeconds(1));
    ThriftTransportConfig.Builder transport = ThriftTransportConfig.builder();
    if (tls) {
      b.tls(certs.server(), false);
      transport.tls(certs.client(), true);
    }
    server = b.start();
    cluster =
        ThriftCluster.create(
            Cluster.builder("echo").registry(registry).policy(BalancingPolicy.roundRobin()),
            transport.build());
    echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .timeout(Duration.ofSeconds(10))
            .build();
  }

  @TearDown(Level.Trial)
  public void tearDown() throws Exception {
    cluster.close();
    server.close();
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  @Benchmark
  public String echo() throws TException {
    return echo.echo("hello over TLS");
  }
}
