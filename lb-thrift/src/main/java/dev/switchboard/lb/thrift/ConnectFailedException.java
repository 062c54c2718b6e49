package dev.switchboard.lb.thrift;

import org.apache.thrift.transport.TTransportException;

/** No connection could be made (refused, unreachable, TLS handshake failed): nothing was sent. */
final class ConnectFailedException extends TTransportException {
  private static final long serialVersionUID = 1L;

  ConnectFailedException(String message, Throwable cause) {
    super(TTransportException.NOT_OPEN, message, cause);
  }
}
