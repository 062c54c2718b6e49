package dev.switchboard.lb.sim;

import dev.switchboard.lb.Prequal;
import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * A server: {@code workers} parallel workers in front of one unbounded FIFO queue (an M/G/c
 * station). Its slowdown multiplies the base service time of every request a worker starts on. It
 * keeps serving its queue whether or not it is registered, and counts its load in the production
 * {@link Prequal.LoadTracker}, which answers Prequal's probes. Not thread-safe.
 */
final class Server {
  final Prequal.LoadTracker tracker = new Prequal.LoadTracker();
  private final int workers;
  private double slowdown;
  private final ArrayDeque<Request> queue = new ArrayDeque<>();
  private int busy;
  private long served;

  Server(int workers, double slowdown) {
    this.workers = workers;
    this.slowdown = slowdown;
  }

  /** How long this server takes for {@code request}. */
  long serviceNanos(Request request) {
    return slowdown == 1.0
        ? request.baseServiceNanos
        : Math.max(1, Math.round(request.baseServiceNanos * slowdown));
  }

  /** From now on, requests started take {@code slowdown} times their base service time. */
  void slowdown(double slowdown) {
    this.slowdown = slowdown;
  }

  /** Takes a request; returns true if a worker starts on it now (else it waits in the queue). */
  boolean accept(Request request, long nowNanos) {
    request.serverArrivalNanos = nowNanos;
    request.serverLevel = tracker.begin();
    if (busy < workers) {
      busy++;
      return true;
    }
    queue.addLast(request);
    return false;
  }

  /**
   * A worker finished {@code finished}; returns the next queued request it starts on, or null if
   * the queue is empty and the worker goes idle.
   */
  @Nullable Request finish(Request finished, long nowNanos) {
    tracker.end(finished.serverLevel, nowNanos - finished.serverArrivalNanos, nowNanos);
    served++;
    Request next = queue.pollFirst();
    if (next == null) {
      busy--;
    }
    return next;
  }

  /** Requests queued or in service. */
  int load() {
    return busy + queue.size();
  }

  long served() {
    return served;
  }
}
