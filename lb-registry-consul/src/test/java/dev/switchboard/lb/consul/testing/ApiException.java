package dev.switchboard.lb.consul.testing;

/** A request the stand-in refuses, as Consul would: becomes an HTTP error with this text. */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;

  ApiException(int status, String message) {
    super(message, null, false, false);
    this.status = status;
  }
}
