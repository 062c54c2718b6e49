package dev.switchboard.lb;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A cluster's hedging threads, made by the first hedged call: one watch thread that fires hedges
 * when they are due, and a cached pool that runs them (a blocking hedge holds its thread for the
 * attempt). Closed with the cluster; running hedges finish within their calls' deadlines.
 * Thread-safe.
 */
final class Hedges {
  private static final Logger logger = LoggerFactory.getLogger(Hedges.class);

  private final String service;
  private final Ticker ticker;
  private volatile @Nullable HedgeWatch watch;
  private volatile @Nullable ExecutorService executor;
  private boolean closed; // guarded by this

  Hedges(String service, Ticker ticker) {
    this.service = service;
    this.ticker = ticker;
  }

  /** Watches a hedgeable attempt until it settles or its hedge is due. */
  void watch(HedgeWatch.Watched call) {
    HedgeWatch w = watch;
    if (w == null) {
      synchronized (this) {
        w = watch;
        if (w == null) {
          w = new HedgeWatch(service, ticker);
          watch = w;
          if (closed) {
            w.close();
          }
        }
      }
    }
    w.watch(call);
  }

  /** Runs {@code hedge} on a hedge thread; drops it if the cluster closed. */
  void run(Runnable hedge) {
    ExecutorService e = executor;
    if (e == null) {
      synchronized (this) {
        e = executor;
        if (e == null) {
          AtomicInteger threads = new AtomicInteger();
          e =
              Executors.newCachedThreadPool(
                  r -> {
                    Thread t =
                        new Thread(
                            r, "switchboard-hedge-" + service + "-" + threads.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                  });
          executor = e;
          if (closed) {
            e.shutdown();
          }
        }
      }
    }
    try {
      e.execute(hedge);
    } catch (RejectedExecutionException closedMeanwhile) {
      logger.debug("Service '{}': closed; hedge not sent", service);
    }
  }

  synchronized void close() {
    closed = true;
    if (watch != null) {
      watch.close();
    }
    if (executor != null) {
      executor.shutdown();
    }
  }
}
