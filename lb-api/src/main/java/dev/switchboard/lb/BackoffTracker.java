package dev.switchboard.lb;

import java.util.concurrent.ThreadLocalRandom;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Refused connects and Retry-After
 * ================================
 * Two ways an endpoint tells this client to stay away for a while, kept as flags on its
 * EndpointHealth and read by the one eligibility pass:
 *
 * - A refused connect (CONNECT_FAILURE: nothing was sent) backs the endpoint off like gRPC's
 *   subchannel in TRANSIENT_FAILURE: 100 ms after the first refusal in a row, doubling up to 5 s,
 *   with 20% jitter. When the wait is up the endpoint is eligible again and the next call's
 *   connect probes it; a call that gets through resets the count (and re-enters slow start). When
 *   every member is refusing (or has its breaker open), calls fail fast with
 *   NoHealthyEndpointException instead of trying connects that will fail: panic mode does not
 *   override these flags.
 * - A Retry-After (HTTP 503) keeps the endpoint out until the time it asked for.
 *
 * Both run on the serial executor and schedule a rebuild for when the wait ends.
 */
final class BackoffTracker {
  private static final Logger logger = LoggerFactory.getLogger(BackoffTracker.class);
  static final long INITIAL_NANOS = 100_000_000L;
  static final long MAX_NANOS = 5_000_000_000L;

  private final ClusterState state;

  BackoffTracker(ClusterState state) {
    this.state = state;
  }

  /** The wait after {@code refusals} refused connects in a row, before jitter. */
  static long refusalBackoffNanos(int refusals) {
    int shift = Math.min(Math.max(refusals - 1, 0), 20);
    return Math.min(MAX_NANOS, INITIAL_NANOS << shift);
  }

  /** A connect to {@code e} was refused. Serial executor only. */
  void connectRefused(Endpoint e) {
    EndpointHealth h = e.health();
    long now = state.ticker.read();
    if (e.isRemoved()
        || state.isClosed()
        || (h.connectRefusals > 0 && now - h.refusingUntilNanos < 0)) {
      return; // already backed off: refusals of calls that raced into it count once
    }
    int refusals = h.connectRefusals + 1;
    long wait = refusalBackoffNanos(refusals);
    wait += (long) (wait * 0.2 * (ThreadLocalRandom.current().nextDouble() * 2 - 1));
    h.refusingUntilNanos = now + wait;
    h.connectRefusals = refusals;
    logger.info(
        "Service '{}': {} refused a connect ({} in a row); backed off for {} ms",
        state.config.service(),
        e.address(),
        refusals,
        wait / 1_000_000);
    state.timer.schedule(() -> state.serial.execute(state::rebuild), wait);
    state.rebuild();
  }

  /** A call reached {@code e} after refused connects. Serial executor only. */
  void connectSucceeded(Endpoint e) {
    EndpointHealth h = e.health();
    if (h.connectRefusals == 0) {
      return;
    }
    h.connectRefusals = 0;
    h.refusingUntilNanos = 0;
    if (e.isRemoved() || state.isClosed()) {
      return;
    }
    logger.info("Service '{}': {} accepts connects again", state.config.service(), e.address());
    state.recovered(e);
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
