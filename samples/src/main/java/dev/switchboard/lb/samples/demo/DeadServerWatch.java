package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.EndpointSnapshot;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * After a server is killed, watches the client's count of calls (attempts) finished on it every 2
 * ms and remembers when it last grew: the time from the kill until no more calls went to the dead
 * server. Stops when the endpoint leaves the cluster or on {@link #stop()}. Thread-safe.
 */
final class DeadServerWatch {
  private static final long PERIOD_NANOS = TimeUnit.MILLISECONDS.toNanos(2);

  private final Cluster cluster;
  private final String address;
  private final long killNanos;
  private final Thread thread;
  private volatile boolean stop;
  private volatile long callsAtKill = -1;
  private volatile long failuresAtKill;
  private volatile long callsAfterKill;
  private volatile long failuresAfterKill;
  private volatile long lastCallNanos = Long.MIN_VALUE;

  DeadServerWatch(Cluster cluster, String address, long killNanos) {
    this.cluster = cluster;
    this.address = address;
    this.killNanos = killNanos;
    this.thread = new Thread(this::watch, "switchboard-demo-dead-server-watch");
    thread.setDaemon(true);
  }

  /** Takes the count at the kill (call it just before the kill), then starts watching. */
  DeadServerWatch start() {
    Optional<EndpointSnapshot> e = endpoint();
    callsAtKill = e.map(EndpointSnapshot::calls).orElse(0L);
    failuresAtKill = e.map(EndpointSnapshot::failures).orElse(0L);
    thread.start();
    return this;
  }

  private Optional<EndpointSnapshot> endpoint() {
    return cluster.snapshot().endpoint(address);
  }

  private void watch() {
    long last = callsAtKill;
    while (!stop) {
      long now = System.nanoTime();
      Optional<EndpointSnapshot> e = endpoint();
      if (e.isEmpty()) {
        return; // left the cluster: nothing can reach it any more
      }
      if (e.get().calls() > last) {
        last = e.get().calls();
        lastCallNanos = now;
        callsAfterKill = last - callsAtKill;
        failuresAfterKill = e.get().failures() - failuresAtKill;
      }
      LockSupport.parkNanos(PERIOD_NANOS);
    }
  }

  void stop() throws InterruptedException {
    stop = true;
    thread.join(1_000);
  }

  /**
   * Calls that ended on the server after the kill signal was sent: replies already on their way,
   * and attempts that failed (see {@link #failuresAfterKill()}).
   */
  long callsAfterKill() {
    return callsAfterKill;
  }

  /** Attempts on the server that failed after the kill; idempotent calls retry them elsewhere. */
  long failuresAfterKill() {
    return failuresAfterKill;
  }

  /** From the kill to the last call seen ending on the dead server; 0 if none did. */
  long killToLastCallNanos() {
    long last = lastCallNanos;
    return last == Long.MIN_VALUE ? 0 : Math.max(0, last - killNanos);
  }
}
