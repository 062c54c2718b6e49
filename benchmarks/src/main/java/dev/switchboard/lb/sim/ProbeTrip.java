package dev.switchboard.lb.sim;

import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Prequal;

/**
 * One Prequal probe on its way: sent by a client's picker, answered by its server half a probe
 * delay later with what the server's {@link Prequal.LoadTracker} says, delivered to the client's
 * pool half a delay after that. Not thread-safe.
 */
final class ProbeTrip {
  final int client;
  final int server;
  final Endpoint endpoint;
  final Prequal.Replies replies;
  int requestsInFlight;
  long latencyNanos;

  ProbeTrip(int client, int server, Endpoint endpoint, Prequal.Replies replies) {
    this.client = client;
    this.server = server;
    this.endpoint = endpoint;
    this.replies = replies;
  }
}
