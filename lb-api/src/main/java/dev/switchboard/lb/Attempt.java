package dev.switchboard.lb;

/**
 * One attempt of a call on the endpoint a {@link Lease} holds, run by {@link Call#run}. An attempt
 * may finish the lease itself (to report an outcome or latency it knows better, such as an HTTP 503
 * it returns as its result); if it does not, the engine finishes it with {@link Outcome#SUCCESS}
 * when the attempt returns, or with {@link #classify} when it throws.
 *
 * @param <T> the call's result
 * @param <X> the checked exception the call may throw
 */
@FunctionalInterface
public interface Attempt<T, X extends Exception> {
  /** Makes the call on {@code lease}'s endpoint, bounded by {@link Lease#attemptDeadlineNanos}. */
  T run(Lease lease) throws X;

  /**
   * How an attempt that threw {@code error} ended for its endpoint. Interruption is classified by
   * the engine ({@link Outcome#CANCELLED}) before this is asked. By default every exception is a
   * {@link Outcome#TRANSPORT_FAILURE} (retried only for idempotent calls).
   */
  default Outcome classify(Throwable error) {
    return Outcome.TRANSPORT_FAILURE;
  }

  /**
   * Releases a result the engine will not return (a failed answer that was retried, or a hedge's
   * answer that came second): an HTTP response body to close, say. Does nothing by default.
   */
  default void discard(T result) {}
}
