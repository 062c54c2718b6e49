package dev.switchboard.lb;

/** A registry refused an operation or could not be reached. */
public class RegistryException extends SwitchboardException {
  private static final long serialVersionUID = 1L;

  public RegistryException(String message) {
    super(message);
  }

  public RegistryException(String message, Throwable cause) {
    super(message, cause);
  }
}
