/**
 * Load-balanced Thrift: {@link dev.switchboard.lb.thrift.ThriftCluster} (pooled, health-aware
 * transports), {@link dev.switchboard.lb.thrift.ThriftClients} (proxies over generated clients) and
 * {@link dev.switchboard.lb.thrift.ThriftServer} (self-registering, draining servers).
 */
@NullMarked
package dev.switchboard.lb.thrift;

import org.jspecify.annotations.NullMarked;
