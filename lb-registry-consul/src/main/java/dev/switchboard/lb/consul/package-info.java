/**
 * Service registry on Consul's HTTP API: {@link dev.switchboard.lb.consul.ConsulRegistry} registers
 * instances with the local agent (TTL check, heartbeats, re-registration) and watches services with
 * blocking queries, keeping the last known members while the agent is unreachable.
 */
@NullMarked
package dev.switchboard.lb.consul;

import org.jspecify.annotations.NullMarked;
