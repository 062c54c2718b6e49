package dev.switchboard.lb.consul;

import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;

/*
 * Talking to the agent
 * --------------------
 * One java.net.http.HttpClient per registry, HTTP/1.1 (one connection per blocking query; no h2c
 * upgrade dance with the agent's Go server), on the registry's own executor so that closing the
 * registry stops every thread it started. JDK 17's HttpClient has no close(): its selector thread
 * ends once the client is unreachable, so close() drops our only reference (and calls shutdownNow() on
 * JDK 21+, where HttpClient has it).
 *
 * The ACL token travels in the X-Consul-Token header only: never in a URI, a log line, an
 * exception message or toString().
 */

/** HTTP calls to one Consul agent. Thread-safe. */
final class AgentClient {
  static final String TOKEN_HEADER = "X-Consul-Token";
  static final String INDEX_HEADER = "X-Consul-Index";

  /** An answer from the agent: status, X-Consul-Index (0 if absent) and body. */
  record Reply(int status, long index, byte[] body) {
    boolean ok() {
      return status / 100 == 2;
    }

    String text() {
      return new String(body, StandardCharsets.UTF_8);
    }

    /** "HTTP 500: first line of the body". */
    String describe() {
      String text = ServiceCodec.abbreviate(text().strip());
      return "HTTP " + status + (text.isEmpty() ? "" : ": " + text);
    }
  }

  private final URI base;
  private final @Nullable String token;
  private final @Nullable String datacenter;
  private final Duration requestTimeout;
  private volatile @Nullable HttpClient http;

  AgentClient(
      URI base,
      @Nullable String token,
      @Nullable String datacenter,
      @Nullable SSLContext sslContext,
      Duration requestTimeout,
      Executor executor) {
    String text = base.toString();
    this.base = URI.create(text.endsWith("/") ? text.substring(0, text.length() - 1) : text);
    this.token = token;
    this.datacenter = datacenter;
    this.requestTimeout = requestTimeout;
    HttpClient.Builder builder =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(requestTimeout)
            .followRedirects(HttpClient.Redirect.NEVER)
            .executor(executor);
    if (sslContext != null) {
      builder.sslContext(sslContext);
    }
    this.http = builder.build();
  }

  URI base() {
    return base;
  }

  /** {@code PUT path} with a JSON body (or none), within the request timeout. */
  CompletableFuture<Reply> put(String path, byte @Nullable [] json) {
    HttpRequest.Builder request =
        request(path, requestTimeout)
            .PUT(
                json == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofByteArray(json));
    if (json != null) {
      request.header("Content-Type", "application/json");
    }
    return send(request.build());
  }

  /**
   * {@code GET /v1/health/service/{service}?passing}, blocking while the index is {@code index}
   * (unless 0) for at most {@code wait}. The request may take wait + wait/16 (Consul's jitter) +
   * the request timeout.
   */
  CompletableFuture<Reply> health(String service, long index, Duration wait) {
    StringBuilder path =
        new StringBuilder("/v1/health/service/").append(segment(service)).append("?passing");
    Duration timeout = requestTimeout;
    if (index > 0) {
      path.append("&index=").append(index).append("&wait=").append(ServiceCodec.goDuration(wait));
      timeout = timeout.plus(wait).plus(wait.dividedBy(16));
    }
    if (datacenter != null) {
      path.append("&dc=").append(query(datacenter));
    }
    return send(request(path.toString(), timeout).GET().build());
  }

  /** Blocks for {@code future}, turning its failure into a {@link RegistryIoException}. */
  static Reply await(CompletableFuture<Reply> future, Duration timeout) {
    try {
      return future.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw new RegistryIoException("interrupted", e);
    } catch (ExecutionException e) {
      throw new RegistryIoException(describe(e.getCause()), e.getCause());
    } catch (TimeoutException e) {
      future.cancel(true);
      throw new RegistryIoException("no answer within " + timeout, e);
    }
  }

  /** A short reason for a failed request, for messages and logs. */
  static String describe(@Nullable Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    if (e == null) {
      return "unknown error";
    }
    if (e instanceof RegistryIoException) {
      return e.getMessage() == null ? "unknown error" : e.getMessage();
    }
    if (e instanceof HttpConnectTimeoutException) {
      return "connect timed out";
    }
    if (e instanceof HttpTimeoutException) {
      return "timed out";
    }
    if (e instanceof ConnectException) {
      return "connection refused";
    }
    if (e instanceof SSLException) {
      return "TLS failed (" + e.getMessage() + ")";
    }
    if (e instanceof CancellationException) {
      return "cancelled";
    }
    if (e instanceof IOException) { // e.g. the agent closed the connection
      return "connection failed ("
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage())
          + ")";
    }
    return e.toString();
  }

  /** Stops using the HTTP client, so it (and its selector thread) can go. */
  void close() {
    HttpClient client = http;
    http = null;
    if (client == null) {
      return;
    }
    try { // JDK 21+: stop at once (in-flight queries were cancelled already)
      HttpClient.class.getMethod("shutdownNow").invoke(client);
    } catch (NoSuchMethodException e) {
      // JDK 17-20: the client and its selector thread go once unreachable
    } catch (ReflectiveOperationException | RuntimeException e) {
      // closing anyway
    }
  }

  private HttpRequest.Builder request(String pathAndQuery, Duration timeout) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(timeout)
            .header("Accept", "application/json");
    if (token != null) {
      request.header(TOKEN_HEADER, token);
    }
    return request;
  }

  private CompletableFuture<Reply> send(HttpRequest request) {
    HttpClient client = http;
    if (client == null) {
      return CompletableFuture.failedFuture(new RegistryIoException("registry is closed", null));
    }
    try {
      return client
          .sendAsync(request, HttpResponse.BodyHandlers.ofByteArray())
          .thenApply(
              response ->
                  new Reply(
                      response.statusCode(),
                      parseIndex(response.headers().firstValue(INDEX_HEADER).orElse(null)),
                      response.body()));
    } catch (RuntimeException e) { // e.g. the executor is shut down
      return CompletableFuture.failedFuture(e);
    }
  }

  private static long parseIndex(@Nullable String header) {
    if (header == null) {
      return 0;
    }
    try {
      return Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /** {@code value} percent-encoded as one path segment. */
  static String segment(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static String query(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8);
  }

  /** A failed call to the agent, with a message fit for users (no token, no headers). */
  static final class RegistryIoException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RegistryIoException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }
}
