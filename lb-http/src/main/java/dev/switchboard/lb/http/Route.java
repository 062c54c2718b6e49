package dev.switchboard.lb.http;

import dev.switchboard.lb.Cluster;

/** A cluster a client sends to, with the client's Retry-After backoff for its endpoints. */
record Route(Cluster cluster, EndpointBackoff backoff) {}
