package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Outcome;
import java.net.SocketTimeoutException;
import org.apache.thrift.TApplicationException;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.transport.TTransportException;

/**
 * Classifies how a Thrift call ended. A declared exception or a {@code TApplicationException} is
 * the server answering (the endpoint is healthy); a transport or protocol error is the endpoint's
 * failure, split into connect (nothing sent), timeout and broken connection.
 */
final class ThriftOutcomes {
  private ThriftOutcomes() {}

  static Outcome classify(Throwable error) {
    if (Outcome.isInterruption(error)) {
      return Outcome.CANCELLED; // the caller's doing, whatever it did to the connection
    }
    if (error instanceof ConnectFailedException) {
      return Outcome.CONNECT_FAILURE;
    }
    if (error instanceof TTransportException te) {
      if (te.getType() == TTransportException.TIMED_OUT
          || hasCause(te, SocketTimeoutException.class)) {
        return Outcome.TIMEOUT;
      }
      return Outcome.TRANSPORT_FAILURE;
    }
    if (error instanceof TProtocolException) {
      return Outcome.TRANSPORT_FAILURE; // garbage on the wire
    }
    if (error instanceof TApplicationException || error instanceof TException) {
      return Outcome.APPLICATION_ERROR; // the server answered
    }
    return Outcome.TRANSPORT_FAILURE; // unknown state: do not trust the connection or endpoint
  }

  /**
   * Whether the connection is still in a clean state after a call that ended with {@code error}.
   */
  static boolean connectionReusable(Throwable error) {
    if (error instanceof TApplicationException tae) {
      int type = tae.getType();
      return type == TApplicationException.UNKNOWN_METHOD
          || type == TApplicationException.INTERNAL_ERROR
          || type == TApplicationException.UNKNOWN;
    }
    return classify(error) == Outcome.APPLICATION_ERROR;
  }

  private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
    for (Throwable c = t; c != null; c = c.getCause()) {
      if (type.isInstance(c)) {
        return true;
      }
      if (c.getCause() == c) {
        break;
      }
    }
    return false;
  }
}
