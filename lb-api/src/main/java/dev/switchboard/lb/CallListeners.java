package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls several {@link CallListener}s in order; one that throws does not stop the others. Also the
 * guard around a single listener, so a throwing listener never fails a call. A throw is logged at
 * WARN the first time and at DEBUG after that, so a broken listener cannot flood the log at the
 * call rate.
 */
final class CallListeners implements CallListener {
  private static final Logger logger = LoggerFactory.getLogger(CallListeners.class);

  private final CallListener[] listeners;
  private final AtomicBoolean warned = new AtomicBoolean();

  private CallListeners(List<CallListener> listeners) {
    this.listeners = listeners.toArray(new CallListener[0]);
  }

  /** The call listeners among {@code listeners}, as one; {@link #NONE} if there are none. */
  static CallListener of(List<? extends ClusterListener> listeners) {
    List<CallListener> calls = new ArrayList<>();
    for (ClusterListener l : listeners) {
      if (l instanceof CallListener c && c != NONE) {
        calls.add(c);
      }
    }
    return calls.isEmpty() ? NONE : new CallListeners(calls);
  }

  @Override
  public void callStarted(Lease lease, Candidates candidates) {
    for (CallListener l : listeners) {
      try {
        l.callStarted(lease, candidates);
      } catch (RuntimeException e) {
        threw(l, e);
      }
    }
  }

  @Override
  public void callFinished(Lease lease, Outcome outcome, long latencyNanos) {
    for (CallListener l : listeners) {
      try {
        l.callFinished(lease, outcome, latencyNanos);
      } catch (RuntimeException e) {
        threw(l, e);
      }
    }
  }

  private void threw(CallListener l, RuntimeException e) {
    if (!warned.get() && warned.compareAndSet(false, true)) {
      logger.warn("CallListener {} threw; ignored (further throws are logged at DEBUG)", l, e);
    } else {
      logger.debug("CallListener {} threw; ignored", l, e);
    }
  }
}
