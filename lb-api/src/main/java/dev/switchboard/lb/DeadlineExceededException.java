package dev.switchboard.lb;

/** A call's deadline passed before an endpoint could be acquired for it. */
public class DeadlineExceededException extends SwitchboardException {
  private static final long serialVersionUID = 1L;

  public DeadlineExceededException(String message) {
    super(message);
  }
}
