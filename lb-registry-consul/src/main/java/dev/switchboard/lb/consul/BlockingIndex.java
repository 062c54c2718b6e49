package dev.switchboard.lb.consul;

/*
 * Consul's rules for the blocking-query index (api-docs/features/blocking, "Implementation
 * Details"), applied after every answered query:
 *
 * 1. Reset the index if it goes backwards. Indexes normally only grow, but a snapshot restore, a
 *    rebuilt cluster or a request answered by another datacenter's servers can report a lower one.
 *    A client that keeps its higher index would block until the cluster catches up with it and
 *    miss every change meanwhile; so it restarts with index 0 (a query that does not block).
 * 2. Never block on an index below 1. An index of 0 (a Consul bug seen in old versions, or a proxy
 *    that drops the header) makes the next query return at once, forever: a busy loop. Index 1
 *    is always safe to wait on.
 * 3. Rate-limit the loop (ConsulWatch: a minimum interval between requests), because a query can
 *    also wake for changes that do not touch this service's members.
 */

/** The next index to block on. Pure functions. */
final class BlockingIndex {
  private BlockingIndex() {}

  /**
   * The index to send next, given the one sent ({@code previous}, 0 for none) and the one the agent
   * reported.
   */
  static long next(long previous, long reported) {
    if (reported < 1) {
      return 1; // rule 2 (also when the header is missing)
    }
    if (reported < previous) {
      return 0; // rule 1
    }
    return reported;
  }
}
