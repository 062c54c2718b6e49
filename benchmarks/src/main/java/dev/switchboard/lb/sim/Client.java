package dev.switchboard.lb.sim;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.Picker;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.TestEndpoints;
import java.util.List;
import java.util.SplittableRandom;
import org.jspecify.annotations.Nullable;

/*
 * One client process's view
 * -------------------------
 * A real client holds its own Endpoint per member (its own in-flight counts and latency average)
 * and its own picker; clients share nothing but the servers. This class does what Cluster's
 * membership handling does for one client, without the Cluster (whose ticker and timer hooks are
 * package-private): on each registry snapshot it keeps the Endpoint of every member it already
 * had (identity, and so counters, survive the update), creates a fresh Endpoint for a new or
 * rejoining member (Cluster closes a removed endpoint once idle and never revives it), drops the
 * members that left (their in-flight calls still finish on the old object), and asks the policy for
 * a new picker with the previous one, as Cluster does on its serial executor. Every member has the
 * default weight 100 and there is no slow start (Cluster's default).
 */

/** A client's own endpoints, picker and workload stream. Not thread-safe. */
final class Client {
  private static final int WEIGHT = ServiceInstance.DEFAULT_WEIGHT;

  final int index;
  final SplittableRandom workload;
  private final BalancingPolicy policy;
  private final @Nullable Endpoint[] byServer;
  private @Nullable Picker picker;
  int remaining;
  long lastDelivery;

  Client(int index, BalancingPolicy policy, SplittableRandom workload, int maxServers) {
    this.index = index;
    this.policy = policy;
    this.workload = workload;
    this.byServer = new Endpoint[maxServers];
  }

  /**
   * Applies a registry snapshot: {@code members[s]} says whether server {@code s} is registered.
   * New endpoints are appended to {@code created}.
   */
  void apply(
      boolean[] members, ServiceInstance[] instances, long nowNanos, List<Endpoint> created) {
    int n = 0;
    for (boolean m : members) {
      n += m ? 1 : 0;
    }
    if (n == 0) {
      return; // keep-last-known, as Cluster does with an empty snapshot
    }
    Endpoint[] endpoints = new Endpoint[n];
    int[] weights = new int[n];
    int k = 0;
    for (int s = 0; s < byServer.length; s++) {
      if (!members[s]) {
        byServer[s] = null;
        continue;
      }
      Endpoint e = byServer[s];
      if (e == null) {
        e = TestEndpoints.create(instances[s], nowNanos);
        byServer[s] = e;
        created.add(e);
      }
      endpoints[k] = e;
      weights[k++] = WEIGHT;
    }
    picker = policy.newPicker(Candidates.of(endpoints, weights), picker);
  }

  Picker picker() {
    Picker p = picker;
    if (p == null) {
      throw new IllegalStateException("client " + index + " has no members yet");
    }
    return p;
  }

  /** Whether {@code endpoint} is still this client's endpoint for {@code server}. */
  boolean holds(int server, Endpoint endpoint) {
    return byServer[server] == endpoint;
  }
}
