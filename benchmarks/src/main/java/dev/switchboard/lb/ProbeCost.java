package dev.switchboard.lb;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.net.InetAddress;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * What a Prequal probe costs: one {@link LoadProbes.Responder} on 127.0.0.1 answering a {@link
 * LoadProbes.UdpProber} that sends probes at a fixed rate for a few seconds, then prints the probes
 * answered per second (after as long again of unmeasured warm-up), the responder thread's CPU time
 * per probe (the server's cost: {@link ThreadMXBean#getThreadCpuTime}), and the caller's time
 * inside {@code probe()} (what a pick pays).
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.switchboard.lb.ProbeCost [rate per s] [seconds]
 * </pre>
 */
public final class ProbeCost {
  private ProbeCost() {}

  /** One line: rate, answered/s, lost, server CPU µs per probe, caller's ns in probe(). */
  public static void main(String[] args) throws Exception {
    int rate = args.length > 0 ? Integer.parseInt(args[0]) : 20_000;
    double seconds = args.length > 1 ? Double.parseDouble(args[1]) : 3;
    System.out.println(measure(rate, seconds));
  }

  /** Runs one measurement; the returned line is what {@link #main} prints. */
  static String measure(int ratePerSecond, double seconds) throws Exception {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    Prequal.LoadTracker tracker = new Prequal.LoadTracker();
    LongAdder answers = new LongAdder();
    Prequal.Replies replies = (endpoint, rif, latency, now) -> answers.increment();
    try (LoadProbes.Responder responder =
            LoadProbes.respond(InetAddress.getLoopbackAddress(), tracker);
        LoadProbes.UdpProber prober = LoadProbes.newProber()) {
      Endpoint member =
          TestEndpoints.create(
              ServiceInstance.builder("probe-cost", "127.0.0.1", 9)
                  .metadata(Map.of(LoadProbes.METADATA_KEY, Integer.toString(responder.port())))
                  .build(),
              0);
      Thread responderThread = thread("switchboard-probe-responder-" + responder.port());
      long intervalNanos = 1_000_000_000L / ratePerSecond;
      // Warm-up: as long again, unmeasured (class loading, JIT).
      long warmUpEnd = System.nanoTime() + Math.round(seconds * 1e9);
      for (long due = System.nanoTime(); due - warmUpEnd < 0; due += intervalNanos) {
        while (System.nanoTime() < due) {
          Thread.onSpinWait();
        }
        prober.probe(member, (endpoint, rif, latency, now) -> {}); // answers not counted
      }
      long answeredBefore = responder.answered();
      long cpuBefore = threads.getThreadCpuTime(responderThread.getId());
      long count = Math.round(ratePerSecond * seconds);
      long[] inProbe = new long[(int) count];
      long start = System.nanoTime();
      for (long i = 0; i < count; i++) {
        long due = start + i * intervalNanos;
        while (System.nanoTime() < due) {
          Thread.onSpinWait();
        }
        long t0 = System.nanoTime();
        prober.probe(member, replies);
        inProbe[(int) i] = System.nanoTime() - t0;
      }
      long sentAt = System.nanoTime();
      while (answers.sum() < count && System.nanoTime() - sentAt < 1_000_000_000L) {
        Thread.onSpinWait();
      }
      double elapsed = (sentAt - start) / 1e9;
      long cpu = threads.getThreadCpuTime(responderThread.getId()) - cpuBefore;
      long answered = responder.answered() - answeredBefore;
      return String.format(
          Locale.ROOT,
          "rate %d/s for %.1f s: answered %.0f/s, lost %d of %d; server CPU %.1f µs per probe;"
              + " caller in probe() p50 %d ns, p99 %d ns",
          ratePerSecond,
          elapsed,
          answers.sum() / elapsed,
          count - answers.sum(),
          count,
          answered == 0 ? Double.NaN : cpu / 1e3 / answered,
          percentile(inProbe, 0.50),
          percentile(inProbe, 0.99));
    }
  }

  private static long percentile(long[] values, double q) {
    long[] sorted = values.clone();
    java.util.Arrays.sort(sorted);
    return sorted[Math.min(sorted.length - 1, (int) Math.floor(q * sorted.length))];
  }

  private static Thread thread(String name) {
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.getName().equals(name)) {
        return t;
      }
    }
    throw new IllegalStateException("no thread " + name);
  }
}
