package dev.switchboard.lb;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.PriorityQueue;

/**
 * A controllable clock for tests: a {@link Ticker}, a {@link Scheduler} whose tasks run only when
 * time is advanced, and a {@link Clock} view for Resilience4j. Thread-safe; tasks run on the thread
 * that advances time.
 */
public final class FakeClock implements Ticker, Scheduler {
  private static final Instant EPOCH = Instant.parse("2026-01-01T00:00:00Z");

  private final PriorityQueue<Task> tasks = new PriorityQueue<>();
  private long nowNanos = 1_000_000_000L; // not zero: zero hides bugs
  private long sequence;

  @Override
  public synchronized long read() {
    return nowNanos;
  }

  /** Moves time forward by {@code duration}, running every task that falls due, in order. */
  public void advance(Duration duration) {
    long target;
    synchronized (this) {
      target = nowNanos + duration.toNanos();
    }
    while (true) {
      Task next;
      synchronized (this) {
        next = tasks.peek();
        if (next == null || next.dueNanos > target) {
          nowNanos = Math.max(nowNanos, target);
          return;
        }
        tasks.poll();
        nowNanos = Math.max(nowNanos, next.dueNanos);
      }
      if (!next.cancelled) {
        next.task.run();
      }
    }
  }

  /** Runs the tasks due now (scheduled with zero delay) without moving time. */
  public void runDueTasks() {
    advance(Duration.ZERO);
  }

  /** How many tasks wait to run. */
  public synchronized int pendingTasks() {
    List<Task> live = new ArrayList<>();
    for (Task t : tasks) {
      if (!t.cancelled) {
        live.add(t);
      }
    }
    return live.size();
  }

  @Override
  public synchronized Cancellable schedule(Runnable task, long delayNanos) {
    Task t = new Task(nowNanos + Math.max(0, delayNanos), sequence++, task);
    tasks.add(t);
    return () -> t.cancelled = true;
  }

  public void close() {}

  /** A wall clock that moves with this ticker. */
  public Clock clock() {
    return new Clock() {
      @Override
      public ZoneId getZone() {
        return ZoneOffset.UTC;
      }

      @Override
      public Clock withZone(ZoneId zone) {
        return this;
      }

      @Override
      public Instant instant() {
        return EPOCH.plusNanos(read());
      }
    };
  }

  private static final class Task implements Comparable<Task> {
    final long dueNanos;
    final long seq;
    final Runnable task;
    volatile boolean cancelled;

    Task(long dueNanos, long seq, Runnable task) {
      this.dueNanos = dueNanos;
      this.seq = seq;
      this.task = task;
    }

    @Override
    public int compareTo(Task o) {
      int c = Long.compare(dueNanos, o.dueNanos);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }
}
