/**
 * An in-process stand-in for a Consul agent's HTTP API, for tests: {@link
 * dev.switchboard.lb.consul.testing.ConsulStandIn}. Published in lb-registry-consul's test-jar.
 */
@NullMarked
package dev.switchboard.lb.consul.testing;

import org.jspecify.annotations.NullMarked;
