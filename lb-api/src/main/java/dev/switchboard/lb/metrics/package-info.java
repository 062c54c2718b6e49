/**
 * Micrometer binding ({@link dev.switchboard.lb.metrics.ClusterMetrics}). Micrometer is an optional
 * dependency of lb-api: only this package refers to it, so the rest of lb-api works without it on
 * the classpath.
 */
@NullMarked
package dev.switchboard.lb.metrics;

import org.jspecify.annotations.NullMarked;
