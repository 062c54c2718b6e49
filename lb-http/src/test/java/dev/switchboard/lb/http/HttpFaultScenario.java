package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.CallListener;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Lease;
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
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Three {@link HttpServerMain} processes in a static registry: a victim on a {@link NetworkLab}
 * host (so its network can fail while it runs) and two on 127.0.0.1; the cluster's view of the
 * victim (requests routed to it, when it left and re-entered rotation); callers of idempotent GETs;
 * and the figures of a run as a table row.
 */
final class HttpFaultScenario implements AutoCloseable {
  final StaticRegistry registry = new StaticRegistry();
  final LabHost host;
  final int victimPort;
  final String victim;
  final Routing routing;
  private final List<Process> locals = new ArrayList<>();

  HttpFaultScenario(NetworkLab lab, String hostName) throws IOException {
    host = lab.host(hostName);
    victimPort = awaitReady(host.start(command(host.address())));
    victim = host.address() + ":" + victimPort;
    registry.add(ServiceInstance.builder(Backend.SERVICE, host.address(), victimPort).build());
    try {
      for (int i = 0; i < 2; i++) {
        Process p = new ProcessBuilder(command("127.0.0.1")).redirectErrorStream(true).start();
        locals.add(p);
        registry.add(ServiceInstance.builder(Backend.SERVICE, "127.0.0.1", awaitReady(p)).build());
      }
    } catch (IOException | RuntimeException e) {
      close();
      throw e;
    }
    routing = new Routing(victim);
  }

  /** Starts {@code callers} callers through {@code client} and waits for all three to answer. */
  Load load(Cluster cluster, LoadBalancedHttpClient client, int callers) {
    cluster.addListener(routing);
    Load load = new Load(client, callers);
    await("all three servers answering")
        .atMost(Duration.ofSeconds(60))
        .until(() -> load.byServer.size() == 3 && load.calls.get() >= 3000);
    return load;
  }

  static Eligibility eligibility(Cluster cluster, String address) {
    return cluster.snapshot().endpoint(address).orElseThrow().eligibility();
  }

  @Override
  public void close() {
    for (Process p : locals) {
      p.destroyForcibly();
    }
  }

  static String header() {
    return "| scenario                           |    calls | failed | max ms    | p99.9 ms  |"
        + " last routed to  | left rotation |\n"
        + "|                                    |          |        | (fault..) | (5 s)     |"
        + " victim (+fault) | (+fault)      |";
  }

  /** Figures of one run from {@code faultNanos} to {@code endNanos}, as a table row. */
  String row(String scenario, Load load, long faultNanos, long endNanos) {
    long[] during = load.latencies(faultNanos, endNanos);
    long[] event = load.latencies(faultNanos, faultNanos + Duration.ofSeconds(5).toNanos());
    long last = routing.lastRoutedNanos.get();
    long left = routing.leftNanos;
    return String.format(
        "| %-34s | %8d | %6d | %9.0f | %9.1f | %15s | %13s |",
        scenario,
        load.calls.get(),
        load.failed.get(),
        millis(during.length == 0 ? 0 : during[during.length - 1]),
        millis(event.length == 0 ? 0 : event[(int) Math.ceil(0.999 * event.length) - 1]),
        last - faultNanos > 0 ? String.format("%.0f ms", millis(last - faultNanos)) : "none after",
        left - faultNanos > 0 ? String.format("%.0f ms", millis(left - faultNanos)) : "-");
  }

  static double millis(long nanos) {
    return nanos / 1e6;
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

  /** Hears which requests go to the victim and when it leaves and re-enters rotation. */
  static final class Routing implements ClusterListener, CallListener {
    private final String victim;
    final AtomicLong lastRoutedNanos = new AtomicLong();
    final AtomicLong routed = new AtomicLong();
    volatile long leftNanos; // first left rotation
    volatile long backNanos; // last re-entered

    Routing(String victim) {
      this.victim = victim;
    }

    @Override
    public void callStarted(Lease lease, Candidates candidates) {
      if (lease.endpoint().address().equals(victim)) {
        lastRoutedNanos.accumulateAndGet(System.nanoTime(), Math::max);
        routed.incrementAndGet();
      }
    }

    @Override
    public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
      if (endpoint.address().equals(victim)) {
        if (from == Eligibility.ELIGIBLE && leftNanos == 0) {
          leftNanos = System.nanoTime(); // the first time: an ejection may run out and recur
        } else if (to == Eligibility.ELIGIBLE) {
          backNanos = System.nanoTime();
        }
      }
    }
  }

  /** Callers making idempotent GETs in a closed loop; every call's start and latency. */
  static final class Load implements AutoCloseable {
    final AtomicLong calls = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final Map<String, AtomicLong> byServer = new ConcurrentHashMap<>();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final List<long[]> timings = new ArrayList<>(); // {start, latency}; guarded by itself
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    Load(LoadBalancedHttpClient client, int callers) {
      for (int i = 0; i < callers; i++) {
        Thread t = new Thread(() -> loop(client), "http-load-" + i);
        threads.add(t);
        t.start();
      }
    }

    private void loop(LoadBalancedHttpClient client) {
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
        synchronized (timings) {
          timings.add(new long[] {start, latency});
        }
      }
    }

    /** Requests answered by {@code address} so far. */
    long callsTo(String address) {
      AtomicLong n = byServer.get(address);
      return n == null ? 0 : n.get();
    }

    /** Sorted latencies of the calls started in [from, to). */
    long[] latencies(long fromNanos, long toNanos) {
      synchronized (timings) {
        long[] l =
            timings.stream()
                .filter(t -> t[0] - fromNanos >= 0 && t[0] - toNanos < 0)
                .mapToLong(t -> t[1])
                .toArray();
        Arrays.sort(l);
        return l;
      }
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
