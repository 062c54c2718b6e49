package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.samples.echo.Echo;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;

/**
 * The gateway's caller threads: each makes echo calls through the load-balanced proxy in a closed
 * loop and checks the reply. A call counts as failed when the proxy throws (after its retries) or
 * answers with the wrong text. Thread-safe.
 */
final class Callers {
  private static final int KEPT_FAILURES = 5;

  private final LongAdder succeeded = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final List<String> failureSamples = new CopyOnWriteArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private volatile boolean stop;

  Callers(int callers, Echo.Iface echo) {
    for (int i = 0; i < callers; i++) {
      int caller = i;
      Thread t = new Thread(() -> loop(caller, echo), "switchboard-demo-caller-" + i);
      t.setDaemon(true);
      threads.add(t);
    }
  }

  void start() {
    threads.forEach(Thread::start);
  }

  private void loop(int caller, Echo.Iface echo) {
    long n = 0;
    while (!stop) {
      String message = "hello " + caller + "-" + n++;
      try {
        String reply = echo.echo(message);
        if (message.equals(reply)) {
          succeeded.increment();
        } else {
          fail("wrong reply '" + reply + "' to '" + message + "'");
        }
      } catch (Exception e) { // TException after retries, NoHealthyEndpointException, ...
        if (!stop) {
          fail(e.toString());
        }
      }
    }
  }

  private void fail(String what) {
    failed.increment();
    if (failureSamples.size() < KEPT_FAILURES) {
      failureSamples.add(what);
    }
  }

  /** Calls finished, failed ones included. */
  long calls() {
    return succeeded.sum() + failed.sum();
  }

  long failed() {
    return failed.sum();
  }

  List<String> failureSamples() {
    return List.copyOf(failureSamples);
  }

  /** Stops the loops and waits (bounded) for the calls in flight to end. */
  void stop() throws InterruptedException {
    stop = true;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (Thread t : threads) {
      long left = deadline - System.nanoTime();
      if (left > 0 && t.isAlive()) {
        t.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left)));
      }
    }
  }
}
