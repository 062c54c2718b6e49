package dev.switchboard.lb;

/**
 * The root of every exception Switchboard itself throws: catch it to handle any of them. The
 * exceptions of the protocols underneath (a Thrift {@code TTransportException}, an {@code
 * IOException} from the HTTP client) are passed on as they are, so callers handle them as they
 * would without a balancer.
 */
public class SwitchboardException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public SwitchboardException(String message) {
    super(message);
  }

  public SwitchboardException(String message, Throwable cause) {
    super(message, cause);
  }
}
