package dev.switchboard.lb;

/**
 * Whether an endpoint may receive calls, and if not, why. Reasons are checked in the order declared
 * here, so an endpoint reports the first that applies.
 */
public enum Eligibility {
  /** Takes calls. */
  ELIGIBLE("eligible"),
  /** Healthy, but held back because enough endpoints in the local zone are healthy. */
  OTHER_ZONE("healthy, in another zone"),
  /** The instance marked itself draining in the registry. */
  DRAINING("draining"),
  /** Registered with weight 0. */
  ZERO_WEIGHT("weight 0"),
  /** Its circuit breaker is open. */
  CIRCUIT_OPEN("circuit breaker open"),
  /** Asked to be left alone for a while (an HTTP 503's {@code Retry-After}). */
  BACKED_OFF("backed off (Retry-After)"),
  /** Ejected by outlier detection after consecutive failures. */
  EJECTED("ejected"),
  /** Failing its active health check. */
  FAILING_HEALTH_CHECK("failing health check"),
  /** At its maximum of in-flight calls. */
  SATURATED("saturated");

  private final String description;

  Eligibility(String description) {
    this.description = description;
  }

  /** A short phrase for messages, such as {@code "circuit breaker open"}. */
  public String description() {
    return description;
  }

  /**
   * Whether an endpoint with this status is unhealthy by a health signal (outlier ejection or an
   * active check) that panic mode overrides. Open breakers and Retry-After are not overridden:
   * calls to those would fail or be refused at once, so a call fails fast instead.
   */
  boolean isHealthFailure() {
    return this == EJECTED || this == FAILING_HEALTH_CHECK;
  }

  /** Whether an endpoint with this status is a member that would serve if it were healthy. */
  boolean isUnhealthy() {
    return this == CIRCUIT_OPEN || this == BACKED_OFF || isHealthFailure();
  }
}
