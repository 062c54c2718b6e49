package dev.switchboard.lb;

import java.util.ArrayList;
import java.util.List;

/*
 * Listeners added after build
 * ---------------------------
 * The configured listener is fixed at build, so build() appends this forwarder to the builder's
 * listeners; addListener/removeListener swap its delegate on the serial executor, where every
 * listener call is made, so a listener never hears a change twice or out of order.
 */
final class AddedListeners implements ClusterListener {
  final List<ClusterListener> listeners = new ArrayList<>(); // serial executor only
  private volatile ClusterListener delegate = ClusterListener.NONE;

  void add(ClusterListener listener) {
    listeners.add(listener);
    delegate = ClusterListeners.of(new ArrayList<>(listeners));
  }

  void remove(ClusterListener listener) {
    if (listeners.remove(listener)) {
      delegate = ClusterListeners.of(new ArrayList<>(listeners));
    }
  }

  @Override
  public void endpointAdded(Endpoint endpoint) {
    delegate.endpointAdded(endpoint);
  }

  @Override
  public void endpointRemoved(Endpoint endpoint) {
    delegate.endpointRemoved(endpoint);
  }

  @Override
  public void endpointEjected(Endpoint endpoint, long ejectionNanos) {
    delegate.endpointEjected(endpoint, ejectionNanos);
  }

  @Override
  public void endpointRestored(Endpoint endpoint) {
    delegate.endpointRestored(endpoint);
  }

  @Override
  public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
    delegate.eligibilityChanged(endpoint, from, to);
  }
}
