/**
 * Load-balanced HTTP over the JDK {@link java.net.http.HttpClient}: {@link
 * dev.switchboard.lb.http.LoadBalancedHttpClient} sends {@code lb://service/path} requests to an
 * endpoint its {@link dev.switchboard.lb.Cluster} picks, with per-attempt {@link
 * dev.switchboard.lb.http.Interceptor}s, outcome classification and safe retries; {@link
 * dev.switchboard.lb.http.HttpHealthCheck} is the active {@code GET /health} probe; {@link
 * dev.switchboard.lb.http.HttpServiceRegistration} registers any HTTP server (described by {@link
 * dev.switchboard.lb.http.HttpService}) and drains it gracefully.
 */
@NullMarked
package dev.switchboard.lb.http;

import org.jspecify.annotations.NullMarked;
