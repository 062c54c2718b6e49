package dev.switchboard.lb.thrift;

/**
 * Connection counts across a {@link ThriftCluster}'s pools at one moment. Immutable.
 *
 * @param open connections open now, idle or in use
 * @param idle connections idle in the pools
 * @param created connections opened since the cluster started
 * @param pools endpoints with a pool
 * @param abandonedKept connections of abandoned calls (a hedge answered first, the caller
 *     cancelled) kept after their reply was read in the background
 * @param abandonedClosed connections of abandoned calls closed instead (the reply was already
 *     arriving, did not come within the read timeout, or too many were draining)
 */
public record PoolStats(
    int open, int idle, long created, int pools, long abandonedKept, long abandonedClosed) {}
