package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Routing, pass-through, classification of answers, deadlines and bad input. */
class LoadBalancedHttpClientTest {
  private Backend backend;
  private Cluster cluster;
  private LoadBalancedHttpClient client;

  @BeforeEach
  void setUp() {
    backend = Backend.start("a");
    cluster = started(cluster(BalancingPolicy.roundRobin(), backend.instance()), 1);
    client = LoadBalancedHttpClient.builder().httpClient(Fixtures.http()).cluster(cluster).build();
  }

  @AfterEach
  void tearDown() {
    cluster.close();
    backend.close();
  }

  @Test
  void send_rewritesUriToPickedEndpoint_andPassesHeadersAndBodyThrough() throws Exception {
    HttpRequest request =
        request("/orders/a%20b?x=1&y=%C3%A9")
            .header("X-Trace", "t-1")
            .header("Content-Type", "text/plain")
            .POST(BodyPublishers.ofString("payload"))
            .build();

    HttpResponse<String> response = client.send(request, BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("a");
    assertThat(response.uri())
        .isEqualTo(
            URI.create(
                backend.scheme() + "://" + backend.address() + "/orders/a%20b?x=1&y=%C3%A9"));
    Backend.Received received = backend.received().get(0);
    assertThat(received.method()).isEqualTo("POST");
    assertThat(received.pathAndQuery()).isEqualTo("/orders/a%20b?x=1&y=%C3%A9");
    assertThat(received.headers().getFirst("X-Trace")).isEqualTo("t-1");
    assertThat(received.headers().getFirst("Content-Type")).isEqualTo("text/plain");
    assertThat(received.body()).isEqualTo("payload");
  }

  @Test
  void send_applicationErrors_areReturnedNotThrown_andDoNotFailTheEndpoint() throws Exception {
    for (int status : new int[] {404, 409, 500}) {
      backend.responder = Backend.status(status, Map.of());

      HttpResponse<String> response = client.send(request("/x").build(), BodyHandlers.ofString());

      assertThat(response.statusCode()).isEqualTo(status);
    }
    assertThat(backend.requests).hasValue(3); // not retried
    assertThat(endpoint(cluster, "a").failures()).isZero();
    assertThat(endpoint(cluster, "a").calls()).isEqualTo(3);
  }

  @Test
  void send_gatewayErrors_countAsEndpointFailures_andTheLastResponseIsReturned() throws Exception {
    backend.responder = Backend.status(502, Map.of());

    HttpResponse<String> response = client.send(request("/x").build(), BodyHandlers.ofString());

    // One endpoint: the GET was retried on it (a repeat beats failing), then the 502 returned.
    assertThat(response.statusCode()).isEqualTo(502);
    assertThat(backend.requests).hasValue(Fixtures.RETRIES.maxAttempts());
    assertThat(endpoint(cluster, "a").failures()).isEqualTo(Fixtures.RETRIES.maxAttempts());
  }

  @Test
  void send_requestTimeout_isTheDeadlineAcrossAttempts() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.responder =
        (exchange, b) -> {
          try {
            release.await(10, TimeUnit.SECONDS); // a deliberately slow handler
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          Backend.ok(exchange, b);
        };
    HttpRequest request = request("/slow").timeout(Duration.ofMillis(300)).build();
    long start = System.nanoTime();

    try {
      assertThatThrownBy(() -> client.send(request, BodyHandlers.ofString()))
          .isInstanceOf(HttpTimeoutException.class);
      long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
      // A per-attempt timeout would have allowed 3 × 300 ms.
      assertThat(elapsedMillis).isBetween(250L, 800L);
      assertThat(backend.requests).hasValue(1);
    } finally {
      release.countDown();
    }
  }

  @Test
  void send_defaultTimeout_appliesWhenTheRequestHasNone() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    backend.responder =
        (exchange, b) -> {
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          Backend.ok(exchange, b);
        };
    LoadBalancedHttpClient quick =
        LoadBalancedHttpClient.builder()
            .httpClient(Fixtures.http())
            .cluster(cluster)
            .defaultTimeout(Duration.ofMillis(200))
            .build();
    try {
      assertThatThrownBy(() -> quick.send(request("/slow").build(), BodyHandlers.ofString()))
          .isInstanceOf(HttpTimeoutException.class);
    } finally {
      release.countDown();
    }
  }

  @Test
  void send_unknownService_failsNamingTheKnownOnes() {
    HttpRequest request = LoadBalancedHttpClient.newRequest("lb://billing/x").build();

    assertThatThrownBy(() -> client.send(request, BodyHandlers.ofString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'billing'")
        .hasMessageContaining("[echo]");
    assertThatThrownBy(() -> client.sendAsync(request, BodyHandlers.ofString()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void send_serviceWrittenAsHttpHost_isBalancedToo() throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://echo/x?y=1")).build();

    assertThat(client.send(request, BodyHandlers.ofString()).body()).isEqualTo("a");
    assertThat(backend.received().get(0).pathAndQuery()).isEqualTo("/x?y=1");
  }

  @Test
  void malformedAddresses_failClearly() {
    HttpRequest withPort = HttpRequest.newBuilder(URI.create("http://echo:8080/x")).build();
    assertThatThrownBy(() -> client.send(withPort, BodyHandlers.ofString()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port is not allowed");
    assertThatThrownBy(() -> LoadBalancedHttpClient.newRequest("http://echo/x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("lb://{service}/{path}?{query}");
    assertThatThrownBy(() -> LoadBalancedHttpClient.newRequest("lb://echo/a b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a valid URI");
    assertThatThrownBy(() -> LoadBalancedHttpClient.newRequest("lb:///x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("names no service");
    assertThatThrownBy(() -> LoadBalancedHttpClient.newRequest("lb://billing_v2/x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'billing_v2'");
  }

  @Test
  void oneClient_severalClusters_routesByService() throws Exception {
    try (Backend other = Backend.start("billing-1");
        Cluster billing =
            started(
                Cluster.builder("billing")
                    .registry(
                        StaticRegistry.of(
                            ServiceInstance.builder("billing", "127.0.0.1", other.port()).build()))
                    .updateDebounce(Duration.ZERO),
                1)) {
      LoadBalancedHttpClient both =
          LoadBalancedHttpClient.builder()
              .httpClient(Fixtures.http())
              .cluster(cluster)
              .cluster(billing)
              .build();

      assertThat(both.send(request("/x").build(), BodyHandlers.ofString()).body()).isEqualTo("a");
      assertThat(
              both.send(
                      LoadBalancedHttpClient.newRequest("lb://billing/y").build(),
                      BodyHandlers.ofString())
                  .body())
          .isEqualTo("billing-1");
      assertThat(both.services()).containsExactly("echo", "billing");
    }
  }

  @Test
  void builder_rejectsBadConfiguration() {
    assertThatThrownBy(() -> LoadBalancedHttpClient.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("at least one cluster");
    assertThatThrownBy(() -> LoadBalancedHttpClient.builder().cluster(cluster).cluster(cluster))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("'echo'");
    assertThatThrownBy(() -> LoadBalancedHttpClient.builder().defaultTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> LoadBalancedHttpClient.builder().maxRetryAfter(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
