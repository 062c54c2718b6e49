package dev.switchboard.lb.http;

import dev.switchboard.lb.Call.Hedging;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.DeadlineExceededException;
import dev.switchboard.lb.NoHealthyEndpointException;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * Sends requests addressed to a service, {@code lb://{service}/{path}?{query}}, to an endpoint of
 * that service's {@link Cluster}, over a JDK {@link HttpClient}:
 *
 * <pre>{@code
 * LoadBalancedHttpClient client = LoadBalancedHttpClient.builder().cluster(cluster).build();
 * HttpRequest request = LoadBalancedHttpClient.newRequest("lb://echo/hello?to=you").build();
 * HttpResponse<String> response = client.send(request, BodyHandlers.ofString());
 * }</pre>
 *
 * <p>The JDK's {@code HttpRequest} accepts only {@code http} and {@code https} URIs, so a request
 * carries the service name as its host: {@link #newRequest} turns {@code lb://echo/hello} into
 * {@code http://echo/hello}, and requests written that way directly are accepted too. A request
 * written {@code https://{service}/...} is always sent over TLS; otherwise the picked instance's
 * {@code scheme} metadata ({@code http} or {@code https}) decides.
 *
 * <p>Each request is one call of the cluster's call engine ({@link dev.switchboard.lb.Call}). Per
 * attempt the cluster picks an endpoint the request has not tried yet; the URI is rewritten to it,
 * the attempt's remaining time becomes the request timeout, the {@link Interceptor}s run, and the
 * request goes out with its headers, body publisher and body handler unchanged. The attempt's
 * outcome feeds the endpoint's latency, circuit breaker and outlier ejection:
 *
 * <ul>
 *   <li>Connect failures (nothing sent) are retried on another endpoint.
 *   <li>502, 503 and 504 count as endpoint failures; they, timeouts and broken connections are
 *       retried only for idempotent requests: GET, HEAD, PUT, DELETE, OPTIONS, or any request
 *       marked with {@link #idempotent(HttpRequest.Builder)}. A POST is never sent twice. This is
 *       {@link dev.switchboard.lb.Outcome#isRetryable}, the rule every integration follows.
 *   <li>A 503 with {@code Retry-After} (seconds or an HTTP-date) keeps that endpoint out of every
 *       call for that long (capped by {@link Builder#maxRetryAfter}); when every endpoint is backed
 *       off, calls fail at once with {@link NoHealthyEndpointException}.
 *   <li>Every other status is the application's answer and is returned as is, never thrown.
 *   <li>A request whose body cannot be sent twice ({@code BodyPublishers.ofInputStream}, {@code
 *       fromPublisher}, custom publishers) is never retried nor hedged; the log and the failure say
 *       so.
 *   <li>With {@link Builder#hedge}, an idempotent request that has not answered after the delay
 *       also goes to another endpoint; the first answer wins and the other exchange is cancelled.
 * </ul>
 *
 * <p>Retries follow the cluster's {@link dev.switchboard.lb.RetryPolicy}: at most its attempts,
 * within its retry budget, never past the deadline ({@link HttpRequest#timeout()}, else the
 * client's default), and never on an endpoint the call already tried while another exists. An
 * idempotent attempt that could still be retried elsewhere gets at most half the time left. When no
 * retry is allowed the last attempt's response is returned, or its exception thrown.
 *
 * <p>An attempt ends when the body handler has produced the response body, as for {@code
 * HttpClient.send}: with {@code BodyHandlers.ofString()} after the whole body, with streaming
 * handlers ({@code ofInputStream}) as soon as the headers arrive, so the endpoint's in-flight count
 * and latency do not cover the rest of the stream. The deadline bounds each attempt as {@link
 * HttpRequest#timeout()} does: until the response headers.
 *
 * <p>Thread-safe; build one per application and share it. The client does not own its clusters or
 * its {@code HttpClient}: close the clusters yourself.
 */
public final class LoadBalancedHttpClient {
  /**
   * A request header marking a request idempotent (safe to retry after it was sent); set it with
   * {@link #idempotent(HttpRequest.Builder)}. The client removes it before sending.
   */
  public static final String IDEMPOTENT_HEADER = "X-Switchboard-Idempotent";

  private static final Set<String> IDEMPOTENT_METHODS =
      Set.of("GET", "HEAD", "PUT", "DELETE", "OPTIONS");

  final HttpClient http;
  final List<Interceptor> interceptors;
  final Clock wallClock;
  final Duration maxRetryAfter;
  final Map<String, Cluster> clusters;
  final @Nullable Hedging hedging;
  final Duration defaultTimeout;
  final @Nullable Function<HttpRequest, @Nullable CharSequence> hashKey;

  private LoadBalancedHttpClient(Builder b) {
    this.http = b.http != null ? b.http : defaultHttpClient();
    this.interceptors = List.copyOf(b.interceptors);
    this.wallClock = b.wallClock;
    this.maxRetryAfter = b.maxRetryAfter;
    this.defaultTimeout = b.defaultTimeout;
    this.hashKey = b.hashKey;
    this.hedging = b.hedging;
    Map<String, Cluster> r = new LinkedHashMap<>();
    for (Cluster c : b.clusters) {
      r.put(c.service(), c);
    }
    this.clusters = Collections.unmodifiableMap(r);
  }

  private static HttpClient defaultHttpClient() {
    return HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  }

  /** Starts a client. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Starts a request to {@code lb://{service}/{path}?{query}}, addressed {@code
   * http://{service}/{path}?{query}} as the JDK's {@code HttpRequest} requires.
   *
   * @throws IllegalArgumentException if {@code uri} is not a valid {@code lb://} URI, or the
   *     service name cannot be a URI host name
   */
  public static HttpRequest.Builder newRequest(String uri) {
    Objects.requireNonNull(uri, "uri");
    URI parsed;
    try {
      parsed = new URI(uri);
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException("'" + uri + "' is not a valid URI: " + e.getMessage(), e);
    }
    return newRequest(parsed);
  }

  /**
   * Starts a request to {@code lb://{service}/{path}?{query}}, addressed {@code
   * http://{service}/{path}?{query}} as the JDK's {@code HttpRequest} requires.
   *
   * @throws IllegalArgumentException if {@code uri} is not {@code lb://{service}/...}, or the
   *     service name cannot be a URI host name
   */
  public static HttpRequest.Builder newRequest(URI uri) {
    if (!"lb".equalsIgnoreCase(uri.getScheme())) {
      throw new IllegalArgumentException(
          "newRequest expects lb://{service}/{path}?{query} but got " + uri);
    }
    return HttpRequest.newBuilder(ServiceUri.parse(uri).logical());
  }

  /**
   * Marks the request being built idempotent: it may be retried on another endpoint after it was
   * sent (a POST that carries an idempotency key, say).
   */
  public static HttpRequest.Builder idempotent(HttpRequest.Builder request) {
    return request.setHeader(IDEMPOTENT_HEADER, "true");
  }

  /** Whether {@code request} may be retried after it was sent: by its method or its marking. */
  public static boolean isIdempotent(HttpRequest request) {
    return IDEMPOTENT_METHODS.contains(request.method())
        || request.headers().firstValue(IDEMPOTENT_HEADER).orElse("").equalsIgnoreCase("true");
  }

  /**
   * Sends {@code request} and waits for the response, retrying on other endpoints when safe.
   *
   * @return the last attempt's response, whatever its status
   * @throws IllegalArgumentException if the URI's host is a service this client has no cluster for,
   *     or the URI has a port or user info
   * @throws IOException the last attempt's failure ({@link java.net.http.HttpTimeoutException} when
   *     the deadline passed), with any reason it was not retried attached as suppressed
   * @throws InterruptedException if the calling thread was interrupted
   * @throws NoHealthyEndpointException if no endpoint could be picked for the first attempt
   * @throws DeadlineExceededException if the deadline passed before the first attempt
   */
  public <T> HttpResponse<T> send(HttpRequest request, BodyHandler<T> handler)
      throws IOException, InterruptedException {
    return HttpCall.prepare(this, request, handler).execute();
  }

  /**
   * Sends {@code request} without blocking, retrying on other endpoints when safe; backoff between
   * attempts waits on a timer, not a thread. Cancelling the returned future aborts the attempt in
   * flight and releases its endpoint.
   *
   * @return a future completed with the last attempt's response, or failed as {@link #send} would
   *     throw
   * @throws IllegalArgumentException if the URI's host is a service this client has no cluster for,
   *     or the URI has a port or user info
   */
  public <T> CompletableFuture<HttpResponse<T>> sendAsync(
      HttpRequest request, BodyHandler<T> handler) {
    return HttpCall.prepare(this, request, handler).executeAsync();
  }

  /** The HTTP client requests go out on. */
  public HttpClient httpClient() {
    return http;
  }

  /** The services this client sends to, in the order their clusters were added. */
  public Set<String> services() {
    return clusters.keySet();
  }

  /**
   * The cluster of {@code service}.
   *
   * @throws IllegalArgumentException if this client has none
   */
  public Cluster cluster(String service) {
    Cluster cluster = clusters.get(service);
    if (cluster == null) {
      throw new IllegalArgumentException(
          "no cluster for service '" + service + "'; this client has " + clusters.keySet());
    }
    return cluster;
  }

  /** The hedging of idempotent requests, if {@link Builder#hedge} turned it on. */
  public Optional<Hedging> hedging() {
    return Optional.ofNullable(hedging);
  }

  @Override
  public String toString() {
    return "LoadBalancedHttpClient" + clusters.keySet();
  }

  /**
   * Configures a {@link LoadBalancedHttpClient}; each setter validates its value at once. Not
   * thread-safe. Defaults: an {@code HttpClient} with a 2 s connect timeout, no interceptors, a 30
   * s deadline for requests without {@link HttpRequest#timeout()}, Retry-After honoured up to 5
   * minutes, no hash key.
   */
  public static final class Builder {
    private @Nullable HttpClient http;
    private final List<Cluster> clusters = new ArrayList<>();
    private final List<Interceptor> interceptors = new ArrayList<>();
    private Duration defaultTimeout = Duration.ofSeconds(30);
    private Duration maxRetryAfter = Duration.ofMinutes(5);
    private @Nullable Function<HttpRequest, @Nullable CharSequence> hashKey;
    private @Nullable Hedging hedging;
    private Clock wallClock = Clock.systemUTC();

    private Builder() {}

    /**
     * The client requests go out on (its SSL context, proxy, executor, HTTP version, redirect
     * policy apply). Give it a short connect timeout: a connect failure is retried elsewhere.
     */
    public Builder httpClient(HttpClient http) {
      this.http = Objects.requireNonNull(http, "http");
      return this;
    }

    /**
     * Sends {@code lb://{cluster.service()}/...} requests through {@code cluster}.
     *
     * @throws IllegalStateException if a cluster of the same service was added already
     */
    public Builder cluster(Cluster cluster) {
      Objects.requireNonNull(cluster, "cluster");
      for (Cluster c : clusters) {
        if (c.service().equals(cluster.service())) {
          throw new IllegalStateException(
              "a cluster for service '" + cluster.service() + "' was added already");
        }
      }
      clusters.add(cluster);
      return this;
    }

    /** Adds an interceptor; interceptors run in the order added, once per attempt. */
    public Builder interceptor(Interceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /** The deadline of a request that sets no {@link HttpRequest#timeout()}, over all attempts. */
    public Builder defaultTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("defaultTimeout must be positive but was " + timeout);
      }
      this.defaultTimeout = timeout;
      return this;
    }

    /** The longest a 503's {@code Retry-After} keeps an endpoint out; zero ignores the header. */
    public Builder maxRetryAfter(Duration max) {
      if (max.isNegative()) {
        throw new IllegalArgumentException("maxRetryAfter must not be negative but was " + max);
      }
      this.maxRetryAfter = max;
      return this;
    }

    /**
     * The key consistent hashing routes a request by (a header, a path segment); a null key means
     * none. Used only with {@code BalancingPolicy.consistentHash()} clusters.
     */
    public Builder hashKey(Function<HttpRequest, @Nullable CharSequence> hashKey) {
      this.hashKey = Objects.requireNonNull(hashKey, "hashKey");
      return this;
    }

    /**
     * Hedges idempotent requests whose body can be sent twice (Finagle's backup requests, gRPC's
     * hedging): when one has not answered after {@code delay}, the same request goes to another
     * endpoint and the first answer wins; the slower exchange is cancelled. Hedges are limited to
     * {@code maxExtraPercent}% of the requests plus a small burst ({@link Hedging}). Pick {@code
     * delay} around the latency percentile you are willing to wait for. Off by default.
     */
    public Builder hedge(Duration delay, int maxExtraPercent) {
      this.hedging = Hedging.of(delay, maxExtraPercent);
      return this;
    }

    /** The wall clock HTTP-dates in Retry-After are compared with (tests). */
    Builder wallClock(Clock clock) {
      this.wallClock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the client.
     *
     * @throws IllegalStateException if no cluster was added
     */
    public LoadBalancedHttpClient build() {
      if (clusters.isEmpty()) {
        throw new IllegalStateException("at least one cluster is required");
      }
      return new LoadBalancedHttpClient(this);
    }
  }
}
