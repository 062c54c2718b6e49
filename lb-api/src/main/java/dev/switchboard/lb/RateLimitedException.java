package dev.switchboard.lb;

/** A call was refused by the cluster's client-side rate limit. */
public class RateLimitedException extends SwitchboardException {
  private static final long serialVersionUID = 1L;

  public RateLimitedException(String message) {
    super(message);
  }
}
