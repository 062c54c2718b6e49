package dev.switchboard.lb.http;

import dev.switchboard.lb.Outcome;
import java.net.http.HttpResponse;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What one attempt produced, and whether the call wants another attempt. Immutable. */
final class Verdict<T> {
  private static final Logger logger = LoggerFactory.getLogger(LoadBalancedHttpClient.class);

  final @Nullable HttpResponse<?> response;
  final @Nullable Throwable error;
  final Outcome outcome;
  final boolean retry;
  final @Nullable String notRetried;

  Verdict(
      @Nullable HttpResponse<?> response,
      @Nullable Throwable error,
      Outcome outcome,
      boolean retry,
      @Nullable String notRetried) {
    this.response = response;
    this.error = error;
    this.outcome = outcome;
    this.retry = retry;
    this.notRetried = notRetried;
  }

  /** The response for the caller, typed by the caller's body handler. */
  @SuppressWarnings("unchecked")
  @Nullable HttpResponse<T> response() {
    return (HttpResponse<T>) response;
  }

  /** The failure for the caller, with {@code also} added as suppressed. */
  Throwable error(Throwable... also) {
    Throwable e = error;
    if (e == null) {
      throw new IllegalStateException("the attempt has a response");
    }
    for (Throwable s : also) {
      if (s != e) {
        e.addSuppressed(s);
      }
    }
    if (notRetried != null) {
      e.addSuppressed(new NotRetried(notRetried));
    }
    return e;
  }

  /** Releases a response that will not reach the caller (its body may hold a connection). */
  void discard() {
    if (response != null && response.body() instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        logger.debug("Closing the body of a retried response failed", e);
      }
    }
  }

  /** Explains, on a failure, why the call was not retried. */
  static final class NotRetried extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotRetried(String message) {
      super(message, null, false, false);
    }
  }
}
