package dev.switchboard.lb.sim;

import dev.switchboard.lb.Endpoint;

/**
 * One simulated call, from its client's pick to its reply (or its timeout). {@code served}: a
 * worker finished it; {@code completed}: its client finished the lease. Not thread-safe.
 */
final class Request {
  final int client;
  final long startNanos;
  final long baseServiceNanos;
  final Endpoint endpoint;
  final int server;
  boolean served;

  /** When it reached its server, and the server's load level then (its LoadTracker's). */
  long serverArrivalNanos;

  int serverLevel;
  boolean completed;

  Request(int client, long startNanos, long baseServiceNanos, Endpoint endpoint, int server) {
    this.client = client;
    this.startNanos = startNanos;
    this.baseServiceNanos = baseServiceNanos;
    this.endpoint = endpoint;
    this.server = server;
  }
}
