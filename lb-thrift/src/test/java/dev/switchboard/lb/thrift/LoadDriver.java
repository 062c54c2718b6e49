package dev.switchboard.lb.thrift;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Caller threads making calls in a closed loop until stopped, counting outcomes and logging each
 * call's start and latency (read them with {@link #latencies} once stopped).
 */
final class LoadDriver implements AutoCloseable {
  /** One call; returns the server that answered. */
  @FunctionalInterface
  interface Call {
    String run() throws Exception;
  }

  final AtomicLong succeeded = new AtomicLong();
  final AtomicLong failed = new AtomicLong();
  final Map<String, AtomicLong> byServer = new ConcurrentHashMap<>();
  final Map<String, AtomicLong> failureKinds = new ConcurrentHashMap<>();
  final List<Throwable> failures = new CopyOnWriteArrayList<>();
  private final AtomicBoolean stop = new AtomicBoolean();
  private final List<Thread> threads = new ArrayList<>();
  private final List<CallLog> logs = new ArrayList<>();
  private final long startNanos = System.nanoTime();
  private long stopNanos;

  LoadDriver(int callers, Call call) {
    for (int i = 0; i < callers; i++) {
      CallLog log = new CallLog();
      logs.add(log);
      Thread t =
          new Thread(
              () -> {
                while (!stop.get()) {
                  long start = System.nanoTime();
                  try {
                    String server = call.run();
                    log.add(start, System.nanoTime() - start);
                    byServer.computeIfAbsent(server, s -> new AtomicLong()).incrementAndGet();
                    succeeded.incrementAndGet();
                  } catch (Exception e) {
                    log.add(start, System.nanoTime() - start);
                    failed.incrementAndGet();
                    failureKinds
                        .computeIfAbsent(e.getClass().getSimpleName(), k -> new AtomicLong())
                        .incrementAndGet();
                    if (failures.size() < 20
                        || failures.stream().noneMatch(f -> f.getClass() == e.getClass())) {
                      failures.add(e);
                    }
                  }
                }
              },
              "load-" + i);
      threads.add(t);
      t.start();
    }
  }

  long total() {
    return succeeded.get() + failed.get();
  }

  long callsTo(String server) {
    AtomicLong n = byServer.get(server);
    return n == null ? 0 : n.get();
  }

  /** Stops the callers and waits for them. */
  @Override
  public void close() {
    stop.set(true);
    for (Thread t : threads) {
      try {
        t.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
    stopNanos = System.nanoTime();
  }

  /**
   * The latencies in nanoseconds, sorted, of the calls (answered or failed) that started between
   * {@code fromNanos} and {@code toNanos} ({@link System#nanoTime()} readings); after {@link
   * #close()}.
   */
  long[] latencies(long fromNanos, long toNanos) {
    int n = 0;
    for (CallLog log : logs) {
      n += log.size;
    }
    long[] out = new long[n];
    int k = 0;
    for (CallLog log : logs) {
      for (int i = 0; i < log.size; i++) {
        if (log.starts[i] - fromNanos >= 0 && toNanos - log.starts[i] > 0) {
          out[k++] = log.latencies[i];
        }
      }
    }
    long[] sorted = Arrays.copyOf(out, k);
    Arrays.sort(sorted);
    return sorted;
  }

  /** The {@code q} quantile (0 to 1) of sorted {@code latencies}, 0 if there are none. */
  static long quantile(long[] latencies, double q) {
    if (latencies.length == 0) {
      return 0;
    }
    int i = (int) Math.ceil(q * latencies.length) - 1;
    return latencies[Math.max(0, Math.min(latencies.length - 1, i))];
  }

  /** One caller's calls: start time and latency, appended by its thread only. */
  private static final class CallLog {
    long[] starts = new long[1 << 14];
    long[] latencies = new long[1 << 14];
    int size;

    void add(long start, long latency) {
      if (size == starts.length) {
        starts = Arrays.copyOf(starts, size * 2);
        latencies = Arrays.copyOf(latencies, size * 2);
      }
      starts[size] = start;
      latencies[size] = latency;
      size++;
    }
  }

  /** Calls per second over the run, for the report line. */
  String summary(String name) {
    double seconds = (stopNanos - startNanos) / 1e9;
    return String.format(
        "[%s] %d calls in %.1f s (%.0f calls/s), %d failed %s, per server %s",
        name, total(), seconds, total() / seconds, failed.get(), failureKinds, byServer);
  }
}
