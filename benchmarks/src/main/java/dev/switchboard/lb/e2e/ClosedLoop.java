package dev.switchboard.lb.e2e;

import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;

/**
 * A closed-loop load: each caller thread sends its next call as soon as the previous one returns.
 * Successful calls' latencies go to an HdrHistogram {@link Recorder}; a failed call is counted, and
 * its caller pauses a millisecond so that a failing mode cannot spin. Only what happens between
 * {@link #beginMeasurement} and {@link #endMeasurement} counts (the warm-up does not). Thread-safe.
 */
final class ClosedLoop implements AutoCloseable {
  private static final long FAILURE_PAUSE_NANOS = TimeUnit.MILLISECONDS.toNanos(1);

  private final LoadTarget target;
  private final String payload;
  private final Recorder latencies = new Recorder(3);
  private final LongAdder succeeded = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean running = true;
  private volatile String firstError = "";
  private volatile long lastFailureNanos = Long.MIN_VALUE;
  private long beginNanos;
  private long succeededAtBegin;
  private long failedAtBegin;
  private long cpuAtBegin;

  /** What one measurement window saw. */
  record Measurement(
      Histogram latencyNanos, long succeeded, long failed, long elapsedNanos, long cpuNanos) {
    double callsPerSecond() {
      return succeeded * 1e9 / Math.max(1, elapsedNanos);
    }
  }

  private ClosedLoop(LoadTarget target, String payload) {
    this.target = target;
    this.payload = payload;
  }

  /** Starts {@code callers} threads calling {@code target} with {@code payload}. */
  static ClosedLoop start(LoadTarget target, int callers, String payload) {
    ClosedLoop loop = new ClosedLoop(target, payload);
    for (int i = 0; i < callers; i++) {
      Thread t = new Thread(loop::callUntilStopped, "e2e-caller-" + i);
      t.setDaemon(true);
      loop.threads.add(t);
    }
    loop.threads.forEach(Thread::start);
    return loop;
  }

  private void callUntilStopped() {
    try (LoadTarget.Caller caller = target.newCaller()) {
      while (running) {
        long start = System.nanoTime();
        boolean ok;
        try {
          ok = payload.equals(caller.echo(payload));
          if (!ok && firstError.isEmpty()) {
            firstError = "a reply differed from its request";
          }
        } catch (Exception e) {
          ok = false;
          if (firstError.isEmpty()) {
            firstError = e.toString();
          }
        }
        if (ok) {
          latencies.recordValue(System.nanoTime() - start);
          succeeded.increment();
        } else {
          failed.increment();
          lastFailureNanos = System.nanoTime();
          LockSupport.parkNanos(FAILURE_PAUSE_NANOS);
        }
      }
    }
  }

  /** CPU time this whole JVM has used (callers, client library, the embedded ZooKeeper), or -1. */
  private static long processCpuNanos() {
    return ManagementFactory.getOperatingSystemMXBean()
            instanceof com.sun.management.OperatingSystemMXBean os
        ? os.getProcessCpuTime()
        : -1;
  }

  /** Starts counting: what came before (the warm-up) is dropped. */
  void beginMeasurement() {
    latencies.getIntervalHistogram();
    succeededAtBegin = succeeded.sum();
    failedAtBegin = failed.sum();
    firstError = "";
    beginNanos = System.nanoTime();
    cpuAtBegin = processCpuNanos();
  }

  /** Stops counting; the callers go on until {@link #close}. */
  Measurement endMeasurement() {
    long elapsed = System.nanoTime() - beginNanos;
    Histogram h = latencies.getIntervalHistogram();
    return new Measurement(
        h,
        succeeded.sum() - succeededAtBegin,
        failed.sum() - failedAtBegin,
        elapsed,
        processCpuNanos() - cpuAtBegin);
  }

  /** The first failure seen since the measurement began, or empty. */
  String firstError() {
    return firstError;
  }

  /** When the last failed call returned ({@link System#nanoTime}), or {@link Long#MIN_VALUE}. */
  long lastFailureNanos() {
    return lastFailureNanos;
  }

  /** Stops the callers and waits for them. Idempotent. */
  @Override
  public void close() throws InterruptedException {
    running = false;
    for (Thread t : threads) {
      t.join(TimeUnit.SECONDS.toMillis(10));
    }
  }
}
