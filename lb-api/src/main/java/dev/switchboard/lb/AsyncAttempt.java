package dev.switchboard.lb;

import java.util.concurrent.CompletableFuture;

/**
 * One non-blocking attempt of a call on the endpoint a {@link Lease} holds, run by {@link
 * Call#runAsync}. The same contract as {@link Attempt}, with the result delivered by a future: the
 * attempt may finish the lease itself before completing the future; otherwise the engine finishes
 * it from how the future completed. Register {@link Lease#onCancel} to abort the I/O when the
 * engine abandons the attempt.
 *
 * @param <T> the call's result
 */
@FunctionalInterface
public interface AsyncAttempt<T> {
  /** Starts the call on {@code lease}'s endpoint; must not block. */
  CompletableFuture<T> start(Lease lease);

  /** As {@link Attempt#classify}. */
  default Outcome classify(Throwable error) {
    return Outcome.TRANSPORT_FAILURE;
  }

  /** As {@link Attempt#discard}. */
  default void discard(T result) {}
}
