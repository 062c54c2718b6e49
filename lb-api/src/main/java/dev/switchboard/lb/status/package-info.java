/**
 * Operator views of running clusters: {@link dev.switchboard.lb.status.ClusterStatus} renders
 * snapshots as JSON and as a self-contained HTML page, and {@link
 * dev.switchboard.lb.status.StatusServer} serves both from an optional embedded endpoint.
 */
@NullMarked
package dev.switchboard.lb.status;

import org.jspecify.annotations.NullMarked;
