package dev.switchboard.lb.http;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Ticker;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/*
 * Retry-After backoff
 * -------------------
 * A 503 with Retry-After asks clients to stay away from that endpoint for a while. The core has
 * no "ineligible until" state an integration can set, so the client keeps its own map of
 * endpoint -> backed off until (ticker nanos) and excludes the live entries from each new call's
 * CallContext, the same soft exclusion a retry uses: pickers skip excluded endpoints while another
 * candidate exists, and Cluster.acquire falls back to an excluded one rather than fail the call
 * when every candidate is excluded. A whole service answering 503 is therefore still called, at
 * the rate its callers send, never harder than without the backoff.
 *
 * Cost: a call reads one volatile size when nothing is backed off; otherwise it walks the map
 * (bounded by the endpoints that sent Retry-After recently), dropping expired entries and
 * endpoints that left the cluster.
 */

/** Endpoints of one cluster that asked not to be called until some time. Thread-safe. */
final class EndpointBackoff {
  private final Ticker ticker;
  private final Map<Endpoint, Long> until = new ConcurrentHashMap<>();

  EndpointBackoff(Ticker ticker) {
    this.ticker = ticker;
  }

  /**
   * Keeps {@code endpoint} out of new calls for {@code delayNanos}, or longer if already; returns
   * whether it was not backed off before.
   */
  boolean backOff(Endpoint endpoint, long delayNanos) {
    long now = ticker.read();
    long deadline = now + delayNanos;
    boolean[] fresh = {false};
    until.compute(
        endpoint,
        (e, previous) -> {
          if (previous == null || now - previous >= 0) {
            fresh[0] = true;
            return deadline;
          }
          return previous - deadline >= 0 ? previous : deadline;
        });
    return fresh[0];
  }

  /** Excludes every endpoint still backed off from {@code ctx}'s picks. */
  void excludeFrom(CallContext ctx) {
    if (until.isEmpty()) {
      return;
    }
    long now = ticker.read();
    for (Map.Entry<Endpoint, Long> e : until.entrySet()) {
      long deadline = e.getValue();
      if (now - deadline >= 0 || e.getKey().isRemoved()) {
        until.remove(e.getKey(), deadline);
      } else {
        ctx.exclude(e.getKey());
      }
    }
  }

  /** Whether {@code endpoint} is backed off now. */
  boolean isBackedOff(Endpoint endpoint) {
    Long deadline = until.get(endpoint);
    return deadline != null && ticker.read() - deadline < 0;
  }
}
