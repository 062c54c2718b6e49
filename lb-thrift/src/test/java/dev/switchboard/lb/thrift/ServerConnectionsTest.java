package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The selector server against many connections: idle pools, stalled TLS handshakes, slow calls. The
 * server closes what is idle or stalled and keeps answering real calls.
 */
class ServerConnectionsTest {
  private static final int IDLE = 10_000;
  private static final int STALLED = 1_000;

  @TempDir Path dir;

  private ThriftServer.Builder echoServer(EchoHandler handler) {
    return ThriftServer.builder(handler, new Echo.Processor<>(handler))
        .host("127.0.0.1")
        .drain(Duration.ZERO, Duration.ofSeconds(1));
  }

  private static ThriftCluster cluster(StaticRegistry registry, ThriftTransportConfig transport) {
    return ThriftCluster.create(
        Cluster.builder("echo").registry(registry).policy(BalancingPolicy.roundRobin()), transport);
  }

  private static Echo.Iface client(ThriftCluster cluster) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .timeout(Duration.ofSeconds(10))
        .build();
  }

  @Test
  void tenThousandIdleTlsConnectionsAndAThousandStalledHandshakes_aRealCallStillAnswers()
      throws Exception {
    ensureOpenFileLimit(IDLE + STALLED + 4_096);
    TestCertificates certs = TestCertificates.create(dir);
    StaticRegistry registry = new StaticRegistry();
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
        echoServer(handler)
            .registry(registry)
            .tls(certs.server(), false)
            .handshakeTimeout(Duration.ofSeconds(15))
            .start()) {
      // Warm this JVM's TLS client first, so the timings below are the server's, not class loading.
      try (ThriftCluster warm = cluster(registry, tlsTransport(certs.client()))) {
        assertThat(client(warm).echo("warm")).isEqualTo("warm");
      }
      long heldAt = System.nanoTime();
      try (Holder holder = Holder.start(server.port(), dir, IDLE, STALLED)) {
        long holdMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - heldAt);
        assertThat(holder.report).contains("failed=0 ");
        await("all connections accepted")
            .atMost(Duration.ofMinutes(1))
            .until(() -> server.connections() >= IDLE + STALLED);

        try (ThriftCluster cluster = cluster(registry, tlsTransport(certs.client()))) {
          Echo.Iface echo = client(cluster);
          long[] micros = new long[21];
          for (int i = 0; i < micros.length; i++) {
            long start = System.nanoTime();
            assertThat(echo.echo("through " + i)).isEqualTo("through " + i);
            micros[i] = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
          }
          long[] pooled = Arrays.copyOfRange(micros, 1, micros.length);
          Arrays.sort(pooled);
          System.out.printf(
              "[server connections] %d idle TLS connections + %d stalled handshakes opened in %d ms;"
                  + " a call on a new TLS connection %.1f ms, pooled median %.2f ms, max %.2f ms;"
                  + " server heap after GC %d MB%n",
              IDLE,
              STALLED,
              holdMillis,
              micros[0] / 1e3,
              pooled[pooled.length / 2] / 1e3,
              pooled[pooled.length - 1] / 1e3,
              heapAfterGcMegabytes());

          await("stalled handshakes closed, idle connections kept")
              .atMost(Duration.ofMinutes(1))
              .until(() -> server.connections() <= IDLE + 1);
          assertThat(server.connections())
              .as("every idle TLS connection and the client's still open")
              .isEqualTo(IDLE + 1);
          assertThat(handler.calls()).isEqualTo(micros.length + 1);
        }
      }
    }
  }

  private static long heapAfterGcMegabytes() {
    System.gc();
    MemoryUsage heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage();
    return heap.getUsed() >> 20;
  }

  @Test
  void requestsAndRepliesOfManyTlsRecords_arriveWhole_fromConcurrentCallers() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    StaticRegistry registry = new StaticRegistry();
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
            echoServer(handler).registry(registry).tls(certs.server(), false).start();
        ThriftCluster cluster = cluster(registry, tlsTransport(certs.client()))) {
      Echo.Iface echo = client(cluster);
      List<Future<String>> replies = new ArrayList<>();
      ExecutorService callers = Executors.newFixedThreadPool(4);
      try {
        for (int i = 0; i < 16; i++) {
          // 1 B to ~1 MB: one record, a record boundary, and dozens of 16 KB records.
          String message = "x".repeat((1 << i) * 16 - 1) + i;
          replies.add(callers.submit(() -> echo.echo(message)));
        }
        for (int i = 0; i < replies.size(); i++) {
          assertThat(replies.get(i).get(1, TimeUnit.MINUTES))
              .hasSize((1 << i) * 16 - 1 + Integer.toString(i).length())
              .endsWith(Integer.toString(i));
        }
      } finally {
        callers.shutdownNow();
      }
    }
  }

  @Test
  void idleConnection_isClosedByTheServer_afterTheIdleTimeout() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    EchoHandler handler = new EchoHandler();
    try (ThriftServer plain = echoServer(handler).idleTimeout(Duration.ofMillis(300)).start();
        ThriftServer tls =
            echoServer(handler)
                .tls(certs.server(), false)
                .idleTimeout(Duration.ofMillis(300))
                .start();
        Socket silent = connect(plain.port());
        SSLSocket handshaken = (SSLSocket) certs.client().getSocketFactory().createSocket()) {
      handshaken.connect(new InetSocketAddress("127.0.0.1", tls.port()), 10_000);
      handshaken.setSoTimeout(30_000);
      handshaken.startHandshake();

      assertThat(silent.getInputStream().read()).as("plain connection closed").isEqualTo(-1);
      assertThat(handshaken.getInputStream().read()).as("TLS connection closed").isEqualTo(-1);
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> plain.connections() + tls.connections() == 0);
    }
  }

  @Test
  void callLongerThanTheIdleTimeout_isAnswered() throws Exception {
    EchoHandler handler = new EchoHandler();
    StaticRegistry registry = new StaticRegistry();
    try (ThriftServer server =
        echoServer(handler).registry(registry).idleTimeout(Duration.ofMillis(200)).start()) {
      try (ThriftCluster cluster =
          cluster(registry, ThriftTransportConfig.builder().warmUp(0, Duration.ZERO).build())) {
        assertThat(client(cluster).sleep(1_000, "slow")).isEqualTo("slow");
      }
    }
  }

  @Test
  void tlsHandshakeThatNeverFinishes_isClosedAfterTheHandshakeTimeout() throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
            echoServer(handler)
                .tls(certs.server(), false)
                .handshakeTimeout(Duration.ofMillis(300))
                .start();
        Socket silent = connect(server.port());
        Socket partial = connect(server.port())) {
      partial.getOutputStream().write(new byte[] {0x16, 0x03, 0x01, 0x02, 0x00, 0x01});
      partial.getOutputStream().flush();

      assertThat(silent.getInputStream().read()).as("silent peer closed").isEqualTo(-1);
      assertThat(partial.getInputStream().read()).as("partial ClientHello closed").isEqualTo(-1);
      assertThat(handler.calls()).isZero();
    }
  }

  private static Socket connect(int port) throws IOException {
    Socket socket = new Socket();
    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    socket.setSoTimeout(30_000);
    return socket;
  }

  private static ThriftTransportConfig tlsTransport(SSLContext context) {
    return ThriftTransportConfig.builder().tls(context, true).warmUp(0, Duration.ZERO).build();
  }

  /**
   * Raises this process's open-file limit to {@code needed} when it is lower (as root, with
   * util-linux's prlimit); skips the test, saying why, where that is impossible.
   */
  private static void ensureOpenFileLimit(long needed) throws IOException, InterruptedException {
    if (openFileLimit() >= needed) {
      return;
    }
    String limit = "--nofile=" + needed + ":" + needed;
    Process p =
        new ProcessBuilder("prlimit", "--pid", Long.toString(ProcessHandle.current().pid()), limit)
            .redirectErrorStream(true)
            .start();
    String output = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    p.waitFor(30, TimeUnit.SECONDS);
    Assumptions.assumeTrue(
        openFileLimit() >= needed,
        "needs " + needed + " open files per process and cannot raise the limit: " + output);
  }

  private static long openFileLimit() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/limits"))) {
      if (line.startsWith("Max open files")) {
        String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
        return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
      }
    }
    return 0;
  }

  /** A {@link ConnectionHolderMain} process, stopped on close. */
  private static final class Holder implements AutoCloseable {
    final Process process;
    final String report;

    private Holder(Process process, String report) {
      this.process = process;
      this.report = report;
    }

    static Holder start(int port, Path certificates, int idle, int stalled)
        throws IOException, InterruptedException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process p =
          new ProcessBuilder(
                  List.of(
                      java,
                      "-Xmx512m",
                      "-cp",
                      System.getProperty("java.class.path"),
                      ConnectionHolderMain.class.getName(),
                      Integer.toString(port),
                      certificates.toString(),
                      Integer.toString(idle),
                      Integer.toString(stalled)))
              .redirectError(ProcessBuilder.Redirect.INHERIT)
              .start();
      InputStream out = p.getInputStream();
      String line =
          new BufferedReader(new InputStreamReader(out, StandardCharsets.UTF_8)).readLine();
      if (line == null || !line.startsWith("HELD ")) {
        p.destroyForcibly();
        throw new IOException("connection holder ended before holding: " + line);
      }
      return new Holder(p, line);
    }

    @Override
    public void close() throws InterruptedException {
      process.destroy();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    }
  }
}
