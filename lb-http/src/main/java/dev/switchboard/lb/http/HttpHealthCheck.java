package dev.switchboard.lb.http;

import dev.switchboard.lb.HealthCheck;
import dev.switchboard.lb.ServiceInstance;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An active HTTP health check: {@code GET {path}} on the instance ({@code http} or {@code https}
 * per its {@code scheme} metadata), healthy on a 2xx within the timeout. Plug it into a cluster
 * with the interval and thresholds you need:
 *
 * <pre>{@code
 * Cluster.builder("echo")
 *     .registry(registry)
 *     .healthCheck(
 *         ActiveHealthCheck.of(HttpHealthCheck.of("/health"))
 *             .withInterval(Duration.ofSeconds(2), Duration.ofMillis(500))
 *             .withThresholds(2, 3))
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe. The response body is discarded; a probe never follows redirects unless the given
 * {@code HttpClient} does.
 */
public final class HttpHealthCheck implements HealthCheck {
  private static final Logger logger = LoggerFactory.getLogger(HttpHealthCheck.class);

  private final String path;
  private final HttpClient http;

  private HttpHealthCheck(String path, HttpClient http) {
    this.path = path;
    this.http = http;
  }

  /**
   * Probes {@code GET {path}} with a client of its own (HTTP/1.1, no redirects).
   *
   * @throws IllegalArgumentException if {@code path} does not start with {@code /} or is not a
   *     valid URI path
   */
  public static HttpHealthCheck of(String path) {
    return of(path, HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build());
  }

  /**
   * Probes {@code GET {path}} with {@code http} (for HTTPS: its SSL context decides what is
   * trusted).
   *
   * @throws IllegalArgumentException if {@code path} does not start with {@code /} or is not a
   *     valid URI path
   */
  public static HttpHealthCheck of(String path, HttpClient http) {
    Objects.requireNonNull(path, "path");
    Objects.requireNonNull(http, "http");
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("health check path must start with '/' but was " + path);
    }
    try {
      URI.create("http://localhost" + path);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("health check path is not a valid URI path: " + path, e);
    }
    return new HttpHealthCheck(path, http);
  }

  /** The path probed. */
  public String path() {
    return path;
  }

  @Override
  public boolean isHealthy(ServiceInstance instance, Duration timeout) {
    URI uri;
    try {
      uri = URI.create(ServiceUri.schemeOf(instance) + "://" + instance.address() + path);
    } catch (IOException e) {
      logger.debug("Health check of {}: {}", instance.address(), e.getMessage());
      return false;
    }
    HttpRequest request = HttpRequest.newBuilder(uri).timeout(timeout).GET().build();
    try {
      int status = http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode();
      if (status >= 200 && status < 300) {
        return true;
      }
      logger.debug("Health check GET {} answered {}", uri, status);
      return false;
    } catch (IOException e) {
      logger.debug("Health check GET {} failed: {}", uri, e.toString());
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Override
  public String toString() {
    return "http_get " + path;
  }
}
