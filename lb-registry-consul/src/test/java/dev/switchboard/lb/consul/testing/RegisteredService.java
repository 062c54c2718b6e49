package dev.switchboard.lb.consul.testing;

import java.util.List;
import java.util.Map;

/**
 * A service registered with the stand-in agent, as {@code GET /v1/agent/services} shows it.
 *
 * @param id the service ID
 * @param name the service name
 * @param address the service address (may be empty: clients then use the node's)
 * @param port the port
 * @param tags the tags
 * @param meta the service metadata
 * @param passingWeight {@code Weights.Passing}
 */
public record RegisteredService(
    String id,
    String name,
    String address,
    int port,
    List<String> tags,
    Map<String, String> meta,
    int passingWeight) {}
