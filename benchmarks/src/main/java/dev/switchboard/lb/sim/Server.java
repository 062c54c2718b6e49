package dev.switchboard.lb.sim;

import java.util.ArrayDeque;
import org.jspecify.annotations.Nullable;

/**
 * A server: {@code workers} parallel workers in front of one unbounded FIFO queue (an M/G/c
 * station). Its speed multiplies every request's base service time. It keeps serving its queue
 * whether or not it is registered. Not thread-safe.
 */
final class Server {
  private final int workers;
  private final double slowdown;
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

  /** Takes a request; returns true if a worker starts on it now (else it waits in the queue). */
  boolean accept(Request request) {
    if (busy < workers) {
      busy++;
      return true;
    }
    queue.addLast(request);
    return false;
  }

  /**
   * A worker finished a request; returns the next queued request it starts on, or null if the queue
   * is empty and the worker goes idle.
   */
  @Nullable Request finish() {
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
