package dev.switchboard.lb;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Calls several {@link ClusterListener}s in order; one that throws does not stop the others. */
final class ClusterListeners implements ClusterListener {
  private static final Logger logger = LoggerFactory.getLogger(ClusterListeners.class);

  private final ClusterListener[] listeners;

  private ClusterListeners(List<ClusterListener> listeners) {
    this.listeners = listeners.toArray(new ClusterListener[0]);
  }

  static ClusterListener of(List<ClusterListener> listeners) {
    return switch (listeners.size()) {
      case 0 -> NONE;
      case 1 -> listeners.get(0);
      default -> new ClusterListeners(listeners);
    };
  }

  private void each(java.util.function.Consumer<ClusterListener> call) {
    for (ClusterListener l : listeners) {
      try {
        call.accept(l);
      } catch (RuntimeException e) {
        logger.warn("ClusterListener {} threw; ignored", l, e);
      }
    }
  }

  @Override
  public void endpointAdded(Endpoint endpoint) {
    each(l -> l.endpointAdded(endpoint));
  }

  @Override
  public void endpointRemoved(Endpoint endpoint) {
    each(l -> l.endpointRemoved(endpoint));
  }

  @Override
  public void endpointEjected(Endpoint endpoint, long ejectionNanos) {
    each(l -> l.endpointEjected(endpoint, ejectionNanos));
  }

  @Override
  public void endpointRestored(Endpoint endpoint) {
    each(l -> l.endpointRestored(endpoint));
  }

  @Override
  public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
    each(l -> l.eligibilityChanged(endpoint, from, to));
  }
}
