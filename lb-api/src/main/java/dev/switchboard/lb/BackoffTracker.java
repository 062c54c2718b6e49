package dev.switchboard.lb;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Retry-After
 * ===========
 * An endpoint that answered an HTTP 503 with Retry-After asked this client to stay away for a
 * while: a flag on its EndpointHealth, read by the one eligibility pass, keeps it out of every
 * call until then (panic mode does not override it; when every member is backed off, calls fail
 * fast). The end is scheduled on the cluster's scheduler and re-enters slow start.
 */
final class BackoffTracker {
  private static final Logger logger = LoggerFactory.getLogger(BackoffTracker.class);

  private final ClusterState state;

  BackoffTracker(ClusterState state) {
    this.state = state;
  }

  /** Keeps {@code e} out of new calls for {@code nanos} (or longer if already). Serial only. */
  void backOff(Endpoint e, long nanos) {
    EndpointHealth h = e.health();
    long now = state.ticker.read();
    long until = now + nanos;
    if (e.isRemoved()
        || state.isClosed()
        || (h.backedOffUntilNanos != 0 && h.backedOffUntilNanos - until >= 0)) {
      return;
    }
    h.backedOffUntilNanos = until;
    logger.info(
        "Service '{}': {} asked for no calls for {} ms (Retry-After)",
        state.config.service(),
        e.address(),
        nanos / 1_000_000);
    state.timer.schedule(() -> state.serial.execute(() -> endBackOff(e)), nanos);
    state.rebuild();
  }

  private void endBackOff(Endpoint e) {
    EndpointHealth h = e.health();
    if (h.backedOffUntilNanos == 0 || state.ticker.read() - h.backedOffUntilNanos < 0) {
      return; // extended meanwhile: a later task ends it
    }
    h.backedOffUntilNanos = 0;
    if (!e.isRemoved() && !state.isClosed()) {
      state.recovered(e);
    }
  }
}
