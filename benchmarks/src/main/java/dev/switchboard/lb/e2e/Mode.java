package dev.switchboard.lb.e2e;

import dev.switchboard.lb.policy.BalancingPolicy;
import org.jspecify.annotations.Nullable;

/** How a cell's calls reach its servers. */
enum Mode {
  PEAK_EWMA("switchboard (peak_ewma)", BalancingPolicy.peakEwma()),
  LEAST_CONNECTIONS("switchboard (least_connections)", BalancingPolicy.leastConnections()),
  ROUND_ROBIN("switchboard (round_robin)", BalancingPolicy.roundRobin()),
  /** Plain connections to one server: what a call costs with no balancing at all. */
  DIRECT("direct (1 server)", null),
  HAPROXY("haproxy (leastconn)", null);

  /** The mode column. */
  final String label;

  /** Switchboard's policy; null for the other modes. */
  final @Nullable BalancingPolicy policy;

  Mode(String label, @Nullable BalancingPolicy policy) {
    this.label = label;
    this.policy = policy;
  }

  boolean isSwitchboard() {
    return policy != null;
  }
}
