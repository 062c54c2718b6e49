package dev.switchboard.lb;

/**
 * Hears about a cluster's rare state changes: endpoints joining and leaving, ejections, breaker
 * transitions. Methods are called on the cluster's serial executor, one at a time; they must be
 * quick, must not block and must not throw (a throw is logged and ignored). All methods default to
 * doing nothing.
 *
 * <p>A listener that also implements {@link CallListener} hears every call as well, on the callers'
 * threads (the metrics binding and {@link DecisionTrace} do).
 */
public interface ClusterListener {
  /** A listener that does nothing. */
  ClusterListener NONE = new ClusterListener() {};

  /** A new member joined; integrations may open connections to it. */
  default void endpointAdded(Endpoint endpoint) {}

  /**
   * A member left and its last in-flight call finished: integrations close what they hold for it
   * (connection pools, say).
   */
  default void endpointRemoved(Endpoint endpoint) {}

  /** Outlier detection took {@code endpoint} out of rotation for {@code ejectionNanos}. */
  default void endpointEjected(Endpoint endpoint, long ejectionNanos) {}

  /** An ejected endpoint's ejection ended. */
  default void endpointRestored(Endpoint endpoint) {}

  /** The endpoint's eligibility changed, for example its breaker opened or it started draining. */
  default void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {}
}
