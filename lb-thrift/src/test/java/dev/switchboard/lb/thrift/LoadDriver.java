package dev.switchboard.lb.thrift;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/** Caller threads making calls in a closed loop until stopped, counting outcomes. */
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
  private final long startNanos = System.nanoTime();
  private long stopNanos;

  LoadDriver(int callers, Call call) {
    for (int i = 0; i < callers; i++) {
      Thread t =
          new Thread(
              () -> {
                while (!stop.get()) {
                  try {
                    String server = call.run();
                    byServer.computeIfAbsent(server, s -> new AtomicLong()).incrementAndGet();
                    succeeded.incrementAndGet();
                  } catch (Exception e) {
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

  /** Calls per second over the run, for the report line. */
  String summary(String name) {
    double seconds = (stopNanos - startNanos) / 1e9;
    return String.format(
        "[%s] %d calls in %.1f s (%.0f calls/s), %d failed %s, per server %s",
        name, total(), seconds, total() / seconds, failed.get(), failureKinds, byServer);
  }
}
