package dev.switchboard.lb.e2e;

import java.io.IOException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * After a server is killed (or its network fails), polls a mode's count of attempts routed to it
 * and remembers when that count last moved: the time from the fault until no more calls went to the
 * server (within the polling period). After {@link #healed}, it also remembers when the count first
 * moved again: the time until the healed server took calls again. Thread-safe.
 */
final class LastRoutedWatch implements AutoCloseable {
  private final LoadTarget target;
  private final int server;
  private final long periodNanos;
  private final Thread thread;
  private volatile boolean stopped;
  private volatile long killNanos;
  private volatile long lastChangeNanos;
  private volatile long healNanos;
  private volatile boolean healed;
  private volatile long backNanos;
  private volatile boolean back;
  private volatile String problem = "";

  private LastRoutedWatch(LoadTarget target, int server, long periodNanos) {
    this.target = target;
    this.server = server;
    this.periodNanos = periodNanos;
    this.thread = new Thread(this::watch, "e2e-last-routed-watch");
    thread.setDaemon(true);
  }

  /**
   * Call just before the kill: starts watching server {@code server} every {@code periodMillis},
   * with the kill time taken now.
   */
  static LastRoutedWatch start(LoadTarget target, int server, long periodMillis) {
    LastRoutedWatch w =
        new LastRoutedWatch(target, server, TimeUnit.MILLISECONDS.toNanos(periodMillis));
    w.killNanos = System.nanoTime();
    w.lastChangeNanos = w.killNanos;
    w.thread.start();
    return w;
  }

  private void watch() {
    int failedPolls = 0;
    try {
      long last = target.attemptsTo(server);
      while (!stopped) {
        LockSupport.parkNanos(periodNanos);
        long now = System.nanoTime();
        long n;
        try {
          n = target.attemptsTo(server);
        } catch (IOException e) {
          // HAProxy's admin socket refused a connection under heavy load: poll again, and say so
          problem = ++failedPolls + " poll(s) failed, the last with " + e;
          continue;
        }
        if (n != last) {
          last = n;
          if (!healed) {
            lastChangeNanos = now;
          } else if (!back) {
            backNanos = now;
            back = true;
          }
        }
      }
    } catch (IOException | RuntimeException e) {
      problem = e.toString();
    }
  }

  /**
   * Call just after the fault is healed: later moves of the count are the server coming back, not
   * calls still routed to it.
   */
  void healed() {
    healNanos = System.nanoTime();
    healed = true;
  }

  /**
   * Milliseconds from {@link #healed} to the first attempt routed to the server after it, or -1 if
   * none (yet, or not healed).
   */
  double millisBackAfterHeal() {
    return healed && back ? (backNanos - healNanos) / 1e6 : -1;
  }

  /**
   * Moves the last-routed time to {@code nanos} if later (a failed call the mode saw, say) and
   * before any heal; {@link Long#MIN_VALUE} means none.
   */
  void noteAttempt(long nanos) {
    if (nanos != Long.MIN_VALUE
        && nanos - lastChangeNanos > 0
        && (!healed || nanos - healNanos < 0)) {
      lastChangeNanos = nanos;
    }
  }

  /** Milliseconds from the kill to the last attempt routed to the dead server. */
  double millisToLastAttempt() {
    return (lastChangeNanos - killNanos) / 1e6;
  }

  /** Why watching stopped early, or empty. */
  String problem() {
    return problem;
  }

  @Override
  public void close() throws InterruptedException {
    stopped = true;
    thread.join(TimeUnit.SECONDS.toMillis(5));
  }
}
