package dev.switchboard.lb.e2e;

import dev.switchboard.lb.BalancingPolicy;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/** How a cell's calls reach its servers. */
enum Mode {
  PEAK_EWMA("switchboard (peak_ewma)", BalancingPolicy.peakEwma(), null),
  /**
   * Peak EWMA, and a call not answered after 8 ms is also sent to another server: above the healthy
   * servers' p99 on a busy 2-core machine (5–7 ms), well below the slow server's 20 ms.
   */
  PEAK_EWMA_HEDGED(
      "switchboard (peak_ewma, hedged)", BalancingPolicy.peakEwma(), Duration.ofMillis(8)),
  LEAST_CONNECTIONS("switchboard (least_connections)", BalancingPolicy.leastConnections(), null),
  ROUND_ROBIN("switchboard (round_robin)", BalancingPolicy.roundRobin(), null),
  /** Plain connections to one server: what a call costs with no balancing at all. */
  DIRECT("direct (1 server)", null, null),
  /**
   * Plain connections spread over every server (caller i to server i mod N), no balancing: the same
   * servers as the balanced modes, so it separates the balancer's cost from what serving one server
   * instead of N costs on this machine.
   */
  DIRECT_SPREAD("direct (all servers)", null, null),
  HAPROXY("haproxy (leastconn)", null, null),
  /**
   * Switchboard as shipped: least connections, idempotent calls hedged adaptively, the default
   * breaker, outlier ejection, retries and timeouts (10 s deadline, 1 s connect); no active health
   * check.
   */
  SWITCHBOARD_DEFAULTS("switchboard (defaults)", BalancingPolicy.leastConnections(), null),
  /**
   * HAProxy with the settings its documentation recommends against these faults (see {@link
   * HaProxy#config}), behind a client that retries an idempotent call once on a new connection
   * within the same deadline as Switchboard's.
   */
  HAPROXY_TUNED("haproxy (tuned) + client retry", null, null);

  /** The modes the network fault scenarios compare. */
  static final List<Mode> NETWORK_FAULT_MODES = List.of(SWITCHBOARD_DEFAULTS, HAPROXY_TUNED);

  /** The hedged mode's budget: at most this percentage of calls sent twice. */
  static final int HEDGE_PERCENT = 5;

  /** The mode column. */
  final String label;

  /** Switchboard's policy; null for the other modes. */
  final @Nullable BalancingPolicy policy;

  /** Switchboard's hedging delay; null when calls are not hedged. */
  final @Nullable Duration hedge;

  Mode(String label, @Nullable BalancingPolicy policy, @Nullable Duration hedge) {
    this.label = label;
    this.policy = policy;
    this.hedge = hedge;
  }

  boolean isSwitchboard() {
    return policy != null;
  }

  /** Whether this mode goes through HAProxy. */
  boolean isHaproxy() {
    return this == HAPROXY || this == HAPROXY_TUNED;
  }
}
