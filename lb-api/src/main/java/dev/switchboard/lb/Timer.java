package dev.switchboard.lb;

/**
 * Runs tasks after a delay, for the cluster's timed state changes (ejection ends, breaker probes,
 * slow-start steps, debounced updates). Injected so tests drive time by hand. Implementations must
 * be thread-safe.
 */
interface Timer extends AutoCloseable {

  /** Runs {@code task} once, {@code delayNanos} from now; the returned handle cancels it. */
  Cancellable schedule(Runnable task, long delayNanos);

  /** Stops running tasks; idempotent. */
  @Override
  void close();

  /** Cancels a scheduled task; cancelling twice or after it ran does nothing. */
  @FunctionalInterface
  interface Cancellable {
    void cancel();
  }
}
