package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.testing.LabHost;
import dev.switchboard.lb.testing.NetworkLab;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/**
 * Issue 18's scenario 1 over HTTP: three HTTP server processes, one on a {@link NetworkLab} host
 * that is black-holed while its registry still lists it; 8 callers of idempotent GETs through a
 * {@link LoadBalancedHttpClient}. Prints each run's figures. Skipped where namespaces cannot be
 * made; CI runs it as root.
 */
class HttpNetworkFaultTest {
  private static final int CALLERS = 8;

  /**
   * At the HTTP client's defaults (no hedging, 30 s deadline): requests the host holds wait for
   * their attempt's timeout (half the deadline) and are retried elsewhere; none fails.
   */
  @Test
  void vanishedServer_atDefaults_noFailedIdempotentRequest_leavesRotation() throws Exception {
    vanishedServer("1 vanished, HTTP defaults", b -> b);
  }

  private static void vanishedServer(
      String label, UnaryOperator<LoadBalancedHttpClient.Builder> configure) throws Exception {
    List<Process> locals = new ArrayList<>();
    try (NetworkLab lab = NetworkLab.open()) {
      LabHost host = lab.host("http-vanish");
      StaticRegistry registry = new StaticRegistry();
      int victimPort = awaitReady(host.start(command(host.address())));
      String victim = host.address() + ":" + victimPort;
      registry.add(ServiceInstance.builder(Backend.SERVICE, host.address(), victimPort).build());
      for (int i = 0; i < 2; i++) {
        Process p = new ProcessBuilder(command("127.0.0.1")).redirectErrorStream(true).start();
        locals.add(p);
        registry.add(ServiceInstance.builder(Backend.SERVICE, "127.0.0.1", awaitReady(p)).build());
      }
      try (Cluster cluster =
          Cluster.builder(Backend.SERVICE)
              .registry(registry)
              .policy(BalancingPolicy.leastConnections())
              .build()) {
        LoadBalancedHttpClient client =
            configure.apply(LoadBalancedHttpClient.builder().cluster(cluster)).build();
        try (Load load = new Load(client)) {
          await("all three servers answering")
              .atMost(Duration.ofSeconds(60))
              .until(() -> load.byServer.size() == 3 && load.calls.get() >= 3000);
          long fault = System.nanoTime();
          host.blackHole();
          await("victim out of rotation")
              .atMost(Duration.ofSeconds(60))
              .until(() -> eligibility(cluster, victim) != Eligibility.ELIGIBLE);
          long left = System.nanoTime() - fault;
          long mark = load.calls.get();
          await("calls after the victim left")
              .atMost(Duration.ofSeconds(60))
              .until(() -> load.calls.get() >= mark + 3000);
          load.close();
          System.out.printf(
              "| %-34s | %8d | %6d | %9.0f | left rotation +%.0f ms |%n",
              label, load.calls.get(), load.failed.get(), load.maxSince(fault) / 1e6, left / 1e6);
          assertThat(load.failures).as("failed idempotent requests").isEmpty();
          assertThat(eligibility(cluster, victim)).isNotEqualTo(Eligibility.ELIGIBLE);
        }
      }
    } finally {
      for (Process p : locals) {
        p.destroyForcibly();
      }
    }
  }

  private static Eligibility eligibility(Cluster cluster, String address) {
    return cluster.snapshot().endpoint(address).orElseThrow().eligibility();
  }

  private static List<String> command(String bindHost) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return List.of(
        java,
        "-Xmx64m",
        "-XX:TieredStopAtLevel=1",
        "-cp",
        System.getProperty("java.class.path"),
        HttpServerMain.class.getName(),
        bindHost);
  }

  /** Waits for the process's READY line, then discards its output; returns its port. */
  private static int awaitReady(Process p) throws IOException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = out.readLine()) != null) {
      if (line.startsWith("READY ")) {
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (out.readLine() != null) {
                      // discard
                    }
                  } catch (IOException ignored) {
                    // exited
                  }
                });
        drain.setDaemon(true);
        drain.start();
        return Integer.parseInt(line.substring(6).strip());
      }
    }
    throw new IOException("HTTP server process exited before READY");
  }

  /** Callers making idempotent GETs in a closed loop; the slowest call started after a time. */
  private static final class Load implements AutoCloseable {
    final AtomicLong calls = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final Map<String, AtomicLong> byServer = new ConcurrentHashMap<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final List<long[]> timings = new CopyOnWriteArrayList<>(); // {start, latency}
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    Load(LoadBalancedHttpClient client) {
      for (int i = 0; i < CALLERS; i++) {
        Thread t =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    long start = System.nanoTime();
                    try {
                      var r = client.send(Fixtures.request("/").build(), BodyHandlers.ofString());
                      if (r.statusCode() != 200) {
                        throw new IOException("status " + r.statusCode());
                      }
                      byServer.computeIfAbsent(r.body(), k -> new AtomicLong()).incrementAndGet();
                      calls.incrementAndGet();
                    } catch (IOException | RuntimeException e) {
                      failed.incrementAndGet();
                      if (failures.size() < 10) {
                        failures.add(e);
                      }
                    } catch (InterruptedException e) {
                      return;
                    }
                    long latency = System.nanoTime() - start;
                    if (latency > 20_000_000L) { // keep only the slow ones
                      timings.add(new long[] {start, latency});
                    }
                  }
                },
                "http-load-" + i);
        threads.add(t);
        t.start();
      }
    }

    long maxSince(long fromNanos) {
      return timings.stream()
          .filter(t -> t[0] - fromNanos >= 0)
          .mapToLong(t -> t[1])
          .max()
          .orElse(0);
    }

    /** Stops the callers; fails if one is still stuck in a request a minute later. */
    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      for (Thread t : threads) {
        t.join(60_000);
        assertThat(t.isAlive()).as("%s stuck in a request", t.getName()).isFalse();
      }
    }
  }
}
