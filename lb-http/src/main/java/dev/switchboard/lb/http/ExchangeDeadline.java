package dev.switchboard.lb.http;

import java.net.http.HttpTimeoutException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A backstop for the JDK client's request timeout: an exchange still unanswered {@link
 * #GRACE_NANOS} after its request's timeout is aborted and fails with {@link HttpTimeoutException},
 * which the engine classifies as a timeout (retried elsewhere for idempotent requests). Seen on a
 * network lab host black-holed under load ({@code HttpNetworkFaultTest}): exchanges on the JDK 17
 * client's pooled connections to it waited past their request timeout, for minutes, and their
 * callers with them. Stateless.
 */
final class ExchangeDeadline {
  /** How long past its request timeout an exchange may stay unanswered before it is aborted. */
  static final long GRACE_NANOS = TimeUnit.MILLISECONDS.toNanos(250);

  private ExchangeDeadline() {}

  /**
   * {@code wire}, or failed with {@link HttpTimeoutException} (and {@code wire} cancelled, which
   * aborts the exchange) if it is not complete {@link #GRACE_NANOS} after {@code timeoutNanos}.
   */
  static <R> CompletableFuture<R> bound(CompletableFuture<R> wire, long timeoutNanos, String to) {
    CompletableFuture<R> out = new CompletableFuture<>();
    wire.copy()
        .orTimeout(timeoutNanos + GRACE_NANOS, TimeUnit.NANOSECONDS)
        .whenComplete(
            (response, error) -> {
              if (error == null) {
                out.complete(response);
              } else if (error instanceof TimeoutException) {
                wire.cancel(true);
                out.completeExceptionally(
                    new HttpTimeoutException(
                        "no response from "
                            + to
                            + " "
                            + TimeUnit.NANOSECONDS.toMillis(timeoutNanos + GRACE_NANOS)
                            + " ms after the request was sent (its timeout did not end it)"));
              } else {
                out.completeExceptionally(error);
              }
            });
    return out;
  }
}
