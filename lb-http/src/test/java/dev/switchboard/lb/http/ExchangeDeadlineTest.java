package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import java.io.IOException;
import java.net.Authenticator;
import java.net.CookieHandler;
import java.net.ProxySelector;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpResponse.PushPromiseHandler;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/**
 * The exchange backstop ({@link ExchangeDeadline}): an exchange the JDK client never ends, not even
 * at its request timeout (seen on pooled connections to a black-holed host), is aborted 250 ms past
 * that timeout and fails as a timeout. Proven with a client whose exchanges to one backend never
 * complete; without the backstop these calls hang for good.
 */
class ExchangeDeadlineTest {
  /** Generous for a loaded machine; the backstop ends an exchange after 1 s + 250 ms here. */
  private static final Duration BOUND = Duration.ofSeconds(20);

  @Test
  void postWhoseExchangeTheClientNeverEnds_failsAsTimeout_notAHang() throws Exception {
    try (Backend stuck = Backend.start("stuck");
        Cluster cluster = started(cluster(BalancingPolicy.roundRobin(), stuck.instance()), 1)) {
      NeverEnding http = new NeverEnding(Fixtures.http(), stuck.port());
      LoadBalancedHttpClient client = client(http, cluster);

      HttpTimeoutException e =
          assertTimeoutPreemptively(
              BOUND,
              () ->
                  assertThrows(
                      HttpTimeoutException.class,
                      () -> client.send(post(), BodyHandlers.ofString())));

      assertThat(e).hasMessageContaining("no response from " + stuck.address());
      assertThat(http.held.get()).isEqualTo(1);
      assertThat(endpoint(cluster, "stuck").failures()).as("charged as a timeout").isEqualTo(1);
    }
  }

  @Test
  void idempotentRequest_whoseExchangeNeverEnds_isRetriedElsewhere() throws Exception {
    try (Backend stuck = Backend.start("stuck");
        Backend good = Backend.start("good");
        Cluster cluster =
            started(cluster(BalancingPolicy.roundRobin(), stuck.instance(), good.instance()), 2)) {
      NeverEnding http = new NeverEnding(Fixtures.http(), stuck.port());
      LoadBalancedHttpClient client = client(http, cluster);

      for (int i = 0; i < 4; i++) {
        HttpResponse<String> r =
            assertTimeoutPreemptively(
                BOUND, () -> client.send(request("/").build(), BodyHandlers.ofString()));
        assertThat(r.body()).isEqualTo("good");
      }
      assertThat(http.held.get()).as("attempts held by the never-ending exchanges").isPositive();
      assertThat(endpoint(cluster, "stuck").failures()).isEqualTo(http.held.get());
    }
  }

  /** Not idempotent: a timeout is not retried, so the call fails with it. */
  private static HttpRequest post() {
    return request("/").POST(BodyPublishers.ofString("x")).build();
  }

  private static LoadBalancedHttpClient client(HttpClient http, Cluster cluster) {
    return LoadBalancedHttpClient.builder()
        .httpClient(http)
        .cluster(cluster)
        .defaultTimeout(Duration.ofSeconds(2)) // the attempt to retry elsewhere gets half: 1 s
        .build();
  }

  /**
   * A real client, except that an exchange with a backend on {@code stuckPort} returns a future
   * that never completes (and ignores its request timeout), as the JDK 17 client's did on pooled
   * connections to a black-holed host.
   */
  private static final class NeverEnding extends HttpClient {
    final AtomicInteger held = new AtomicInteger();
    private final HttpClient delegate;
    private final int stuckPort;

    NeverEnding(HttpClient delegate, int stuckPort) {
      this.delegate = delegate;
      this.stuckPort = stuckPort;
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(
        HttpRequest request, BodyHandler<T> handler) {
      if (request.uri().getPort() == stuckPort) {
        held.incrementAndGet();
        return new CompletableFuture<>();
      }
      return delegate.sendAsync(request, handler);
    }

    @Override
    public <T> CompletableFuture<HttpResponse<T>> sendAsync(
        HttpRequest request, BodyHandler<T> handler, PushPromiseHandler<T> push) {
      return sendAsync(request, handler);
    }

    @Override
    public <T> HttpResponse<T> send(HttpRequest request, BodyHandler<T> handler)
        throws IOException, InterruptedException {
      throw new UnsupportedOperationException("the load-balanced client sends asynchronously");
    }

    @Override
    public Optional<CookieHandler> cookieHandler() {
      return delegate.cookieHandler();
    }

    @Override
    public Optional<Duration> connectTimeout() {
      return delegate.connectTimeout();
    }

    @Override
    public Redirect followRedirects() {
      return delegate.followRedirects();
    }

    @Override
    public Optional<ProxySelector> proxy() {
      return delegate.proxy();
    }

    @Override
    public SSLContext sslContext() {
      return delegate.sslContext();
    }

    @Override
    public SSLParameters sslParameters() {
      return delegate.sslParameters();
    }

    @Override
    public Optional<Authenticator> authenticator() {
      return delegate.authenticator();
    }

    @Override
    public Version version() {
      return delegate.version();
    }

    @Override
    public Optional<Executor> executor() {
      return delegate.executor();
    }
  }
}
