package dev.switchboard.lb;

/**
 * The exception handed to an endpoint's circuit breaker for a failed call: one shared instance per
 * outcome, without a stack trace, so recording a failure allocates nothing.
 */
final class EndpointFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;
  private static final EndpointFailure[] BY_OUTCOME = new EndpointFailure[Outcome.values().length];

  static {
    for (Outcome o : Outcome.values()) {
      BY_OUTCOME[o.ordinal()] = new EndpointFailure(o);
    }
  }

  private final Outcome outcome;

  private EndpointFailure(Outcome outcome) {
    super("endpoint failure: " + outcome, null, false, false);
    this.outcome = outcome;
  }

  static EndpointFailure of(Outcome outcome) {
    return BY_OUTCOME[outcome.ordinal()];
  }

  /** The outcome this failure stands for. */
  Outcome outcome() {
    return outcome;
  }
}
