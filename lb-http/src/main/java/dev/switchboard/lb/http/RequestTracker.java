package dev.switchboard.lb.http;

import com.sun.net.httpserver.Filter;
import com.sun.net.httpserver.HttpExchange;
import dev.switchboard.lb.GracefulShutdown;
import dev.switchboard.lb.Prequal;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Counts the requests a server is handling, so a graceful shutdown can wait for them, and keeps the
 * load Prequal's probes are answered with (requests in flight, latency at that load: see {@link
 * HttpServiceRegistration.Builder#loadProbes}). On the JDK {@code HttpServer} add {@link #filter()}
 * to each context; on any other server wrap each request in {@link #begin()}:
 *
 * <pre>{@code
 * try (RequestTracker.Scope scope = tracker.begin()) {
 *   handle(request);
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class RequestTracker implements GracefulShutdown.InFlight {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition idle = lock.newCondition();
  private int inFlight; // guarded by lock
  private final Prequal.LoadTracker load = new Prequal.LoadTracker();

  /** Returns a tracker with no request in flight. */
  public RequestTracker() {}

  /** One tracked request; closing it ends it (once, however often it is closed). Thread-safe. */
  public interface Scope extends AutoCloseable {
    @Override
    void close();
  }

  /** Starts tracking one request. */
  public Scope begin() {
    lock.lock();
    try {
      inFlight++;
    } finally {
      lock.unlock();
    }
    int level = load.begin();
    long start = System.nanoTime();
    return new Scope() {
      private boolean closed;

      @Override
      public synchronized void close() {
        if (!closed) {
          closed = true;
          long now = System.nanoTime();
          load.end(level, now - start, now);
          end();
        }
      }
    };
  }

  private void end() {
    lock.lock();
    try {
      if (--inFlight == 0) {
        idle.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** What load probes are answered from. */
  Prequal.LoadTracker load() {
    return load;
  }

  /** The requests begun and not yet ended. */
  @Override
  public int inFlight() {
    lock.lock();
    try {
      return inFlight;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Waits until no request is in flight, or {@code timeout} passes.
   *
   * @return whether the server went idle in time
   * @throws InterruptedException if the waiting thread was interrupted
   */
  @Override
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long remaining = timeout.toNanos();
    lock.lock();
    try {
      while (inFlight > 0) {
        if (remaining <= 0) {
          return false;
        }
        remaining = idle.awaitNanos(remaining);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * A filter for the JDK {@code HttpServer} that tracks each exchange from when its handler starts
   * until it returns.
   */
  public Filter filter() {
    return new Filter() {
      @Override
      public void doFilter(HttpExchange exchange, Chain chain) throws IOException {
        Scope scope = begin();
        try {
          chain.doFilter(exchange);
        } finally {
          scope.close();
        }
      }

      @Override
      public String description() {
        return "switchboard request tracker";
      }
    };
  }

  @Override
  public String toString() {
    return "RequestTracker{inFlight=" + inFlight() + "}";
  }
}
