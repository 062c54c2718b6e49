package dev.switchboard.lb.thrift;

/**
 * Connection counts across a {@link ThriftCluster}'s pools at one moment. Immutable.
 *
 * @param open connections open now, idle or in use
 * @param idle connections idle in the pools
 * @param created connections opened since the cluster started
 * @param pools endpoints with a pool
 */
public record PoolStats(int open, int idle, long created, int pools) {}
