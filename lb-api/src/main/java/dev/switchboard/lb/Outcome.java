package dev.switchboard.lb;

/**
 * How one call to one endpoint ended, as classified by the integration that made it. The outcome
 * decides what the endpoint's circuit breaker, outlier detector and latency average learn from the
 * call, and whether a retry on another endpoint is safe.
 */
public enum Outcome {
  /** The endpoint answered normally. */
  SUCCESS,
  /** No connection could be made: nothing was sent, so a retry elsewhere is always safe. */
  CONNECT_FAILURE,
  /** The request may have been sent but no reply came in time. Retry only if idempotent. */
  TIMEOUT,
  /** The request was (or may have been) sent and the connection broke. Retry only if idempotent. */
  TRANSPORT_FAILURE,
  /**
   * The endpoint said it is overloaded or unavailable (an HTTP 503). Its answer does not prove the
   * call was not processed, so, like a timeout, it is retried elsewhere only if idempotent.
   */
  OVERLOADED,
  /**
   * The endpoint answered with an application-level error (a declared exception, a 4xx status). The
   * endpoint is healthy; the call is not retried.
   */
  APPLICATION_ERROR,
  /**
   * The caller gave up or closed the lease without an outcome. The in-flight slot is released and
   * nothing is learned about the endpoint.
   */
  CANCELLED;

  /** Whether this outcome counts against the endpoint's health (breaker, ejection, latency). */
  public boolean isEndpointFailure() {
    return switch (this) {
      case CONNECT_FAILURE, TIMEOUT, TRANSPORT_FAILURE, OVERLOADED -> true;
      case SUCCESS, APPLICATION_ERROR, CANCELLED -> false;
    };
  }

  /**
   * Whether a call that ended this way may be sent to another endpoint: the one rule every
   * integration follows (the call engine asks it). Always after a connect failure (nothing was
   * sent); after a timeout, a broken connection or an overloaded answer only if repeating the call
   * is harmless; never after an answer or a cancellation.
   *
   * @param idempotent whether repeating the call is harmless
   */
  public boolean isRetryable(boolean idempotent) {
    return switch (this) {
      case CONNECT_FAILURE -> true;
      case TIMEOUT, TRANSPORT_FAILURE, OVERLOADED -> idempotent;
      case SUCCESS, APPLICATION_ERROR, CANCELLED -> false;
    };
  }

  /**
   * Whether {@code error}, or one of its first causes, is the caller's interruption or cancellation
   * ({@link InterruptedException}, {@link java.nio.channels.ClosedByInterruptException}, an
   * interrupted I/O that is not a socket timeout, {@link
   * java.util.concurrent.CancellationException}): such a call ends {@link #CANCELLED}, whatever the
   * exception's type says about the connection.
   */
  public static boolean isInterruption(Throwable error) {
    Throwable c = error;
    for (int depth = 0; c != null && depth < 8; depth++, c = c.getCause()) {
      if (c instanceof InterruptedException
          || c instanceof java.nio.channels.ClosedByInterruptException
          || c instanceof java.util.concurrent.CancellationException
          || (c instanceof java.io.InterruptedIOException
              && !(c instanceof java.net.SocketTimeoutException))) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }
}
