package dev.switchboard.lb.http;

import dev.switchboard.lb.Call;
import dev.switchboard.lb.Outcome;
import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import javax.net.ssl.SSLHandshakeException;

/*
 * Classification
 * --------------
 * Statuses. 503 is the server saying it is overloaded or unavailable (OVERLOADED; its Retry-After
 * backs the endpoint off). 502 and 504 come from a gateway in front of the application, which may
 * have passed the request on before failing: 502 counts as TRANSPORT_FAILURE (the hop behind the
 * gateway broke) and 504 as TIMEOUT (the application did not answer in time). All three are
 * endpoint failures that feed the breaker and ejection, and none proves the request was not
 * processed, so only idempotent requests are retried after them (Outcome.isRetryable, the one rule
 * the call engine applies to every integration). Every
 * other status, 500 included, is the application's answer: SUCCESS below 400, APPLICATION_ERROR
 * otherwise; the response goes back to the caller as is (Envoy's retry_on "gateway-error" covers
 * the same three codes).
 *
 * Exceptions. Nothing was sent when the connection could not be made (refused, unroutable,
 * unresolved, connect timeout, TLS handshake failure): CONNECT_FAILURE, always safe to retry.
 * The request timeout is the call's remaining deadline: TIMEOUT. Any other I/O error happened
 * after the request may have been written: TRANSPORT_FAILURE. Interruption and cancellation are
 * the caller's doing (CANCELLED); so is anything else, such as an interceptor's exception, which
 * says nothing about the endpoint.
 */

/** Maps HTTP statuses and exceptions to {@link Outcome}s. Stateless. */
final class HttpOutcomes {
  private HttpOutcomes() {}

  static Outcome ofStatus(int status) {
    return switch (status) {
      case 502 -> Outcome.TRANSPORT_FAILURE;
      case 503 -> Outcome.OVERLOADED;
      case 504 -> Outcome.TIMEOUT;
      default -> status < 400 ? Outcome.SUCCESS : Outcome.APPLICATION_ERROR;
    };
  }

  static Outcome ofError(Throwable error) {
    Throwable t = Call.unwrapFailure(error);
    if (t instanceof HttpConnectTimeoutException) {
      return Outcome.CONNECT_FAILURE;
    }
    if (t instanceof HttpTimeoutException) {
      return Outcome.TIMEOUT;
    }
    if (Outcome.isInterruption(t)) {
      return Outcome.CANCELLED;
    }
    if (isConnectFailure(t)) {
      return Outcome.CONNECT_FAILURE;
    }
    return t instanceof IOException ? Outcome.TRANSPORT_FAILURE : Outcome.CANCELLED;
  }

  /** Whether {@code t} or one of its first causes says no connection was made. */
  private static boolean isConnectFailure(Throwable t) {
    Throwable c = t;
    for (int depth = 0; c != null && depth < 5; depth++, c = c.getCause()) {
      if (c instanceof ConnectException
          || c instanceof NoRouteToHostException
          || c instanceof UnknownHostException
          || c instanceof UnresolvedAddressException
          || c instanceof SSLHandshakeException) {
        return true;
      }
    }
    return false;
  }
}
