package dev.switchboard.lb;

import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How the call engine ends an attempt: finishes its lease with the outcome the attempt earned (its
 * own, {@link Outcome#SUCCESS} when it returned, {@link Outcome#CANCELLED} when the caller was
 * interrupted or the engine abandoned it, else its classification), and hands its result or failure
 * on. Stateless.
 */
final class Attempts {
  private Attempts() {}

  /** Finishes the lease of an attempt that returned; returns its outcome. */
  static Outcome finishReturned(Lease lease) {
    if (lease.isDetached()) {
      return Outcome.SUCCESS;
    }
    if (!lease.isCompleted()) {
      lease.complete(Outcome.SUCCESS);
    }
    return lease.outcome();
  }

  /** Finishes the lease of an attempt that threw {@code error}; returns its outcome. */
  static Outcome finishThrown(
      Lease lease,
      Throwable error,
      Function<Throwable, Outcome> classifier,
      boolean onCallersThread) {
    if (lease.isCompleted()) {
      return lease.outcome();
    }
    if (lease.isDetached()) {
      return Outcome.CANCELLED; // abandoned, and its attempt finishes the lease when its I/O ends
    }
    Throwable t = unwrap(error);
    if (Outcome.isInterruption(t) || (onCallersThread && Thread.currentThread().isInterrupted())) {
      lease.close(); // CANCELLED: the caller's doing, nothing learned about the endpoint
      return Outcome.CANCELLED;
    }
    Outcome outcome = classifier.apply(t);
    if (lease.isCancelled() && !isOwnFailure(outcome)) {
      lease.close(); // abandoned: its failure may be the abandoning, nothing learned
      return Outcome.CANCELLED;
    }
    if (outcome == Outcome.CANCELLED) {
      lease.close();
    } else {
      lease.complete(outcome);
    }
    return outcome;
  }

  /**
   * Whether an abandoned attempt's {@code outcome} is the endpoint's own failure rather than a
   * consequence of the abandoning: abandoning closes a connection (a broken connection) or cancels
   * a request, but never makes a connect fail or a read time out. Such failures are recorded even
   * when a hedge answered first; otherwise an endpoint that stopped answering (a black hole), whose
   * every call a hedge rescues, would never leave rotation.
   */
  static boolean isOwnFailure(Outcome outcome) {
    return outcome == Outcome.CONNECT_FAILURE || outcome == Outcome.TIMEOUT;
  }

  @SuppressWarnings("unchecked") // an attempt throws only X or unchecked exceptions
  static <T, X extends Exception> T deliver(@Nullable T result, @Nullable Exception error)
      throws X {
    if (error != null) {
      throw (X) error;
    }
    return result;
  }

  /** Strips the wrappers futures add. */
  static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
