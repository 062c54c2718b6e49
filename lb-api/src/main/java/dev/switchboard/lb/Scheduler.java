package dev.switchboard.lb;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Runs tasks after a delay, for a cluster's timed state changes (ejection ends, breaker probes,
 * slow-start steps, back-offs, debounced updates) and its calls' retries and hedges. Give several
 * clusters one scheduler to share its thread, or a virtual-time one to drive a cluster by hand in
 * tests and simulations (Caffeine's {@code Scheduler}). Implementations must be thread-safe, must
 * not run a task on the calling thread of {@link #schedule}, and must keep tasks short.
 */
public interface Scheduler {

  /** Runs {@code task} once, {@code delayNanos} from now; the returned handle cancels it. */
  Cancellable schedule(Runnable task, long delayNanos);

  /**
   * A scheduler over {@code executor}, which the caller owns (a cluster does not shut it down).
   * Tasks scheduled after the executor shut down are dropped.
   */
  static Scheduler forExecutor(ScheduledExecutorService executor) {
    java.util.Objects.requireNonNull(executor, "executor");
    return (task, delayNanos) -> {
      if (executor.isShutdown()) {
        return () -> {};
      }
      try {
        ScheduledFuture<?> f =
            executor.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
      } catch (java.util.concurrent.RejectedExecutionException shutDown) {
        return () -> {};
      }
    };
  }

  /** Cancels a scheduled task; cancelling twice or after it ran does nothing. */
  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }
}
