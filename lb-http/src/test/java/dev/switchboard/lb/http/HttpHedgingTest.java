package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static dev.switchboard.lb.http.Fixtures.totalInFlight;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Call.Hedging;
import dev.switchboard.lb.Cluster;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Hedged HTTP requests on real servers: one backend holds every request until the test ends, the
 * other answers at once. A hedged idempotent request stuck on the slow one is answered by the fast
 * one, the stuck exchange is cancelled, and non-idempotent requests are never hedged.
 */
class HttpHedgingTest {
  private final CountDownLatch release = new CountDownLatch(1);
  private Backend slow;
  private Backend fast;
  private Cluster cluster;
  private LoadBalancedHttpClient client;

  @BeforeEach
  void setUp() {
    slow = Backend.start("slow");
    fast = Backend.start("fast");
    slow.responder =
        (exchange, backend) -> {
          try {
            release.await(30, TimeUnit.SECONDS); // held until the test ends
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          Backend.ok(exchange, backend);
        };
    cluster =
        started(
            cluster(BalancingPolicy.roundRobin(), slow.instance(), fast.instance())
                .outlierDetection(Fixtures.noEjection()),
            2);
    client =
        LoadBalancedHttpClient.builder()
            .httpClient(Fixtures.http())
            .cluster(cluster)
            .defaultTimeout(Duration.ofSeconds(20))
            .hedge(Duration.ofMillis(30), 100)
            .build();
  }

  @AfterEach
  void tearDown() {
    release.countDown();
    cluster.close();
    slow.close();
    fast.close();
  }

  @Test
  void send_getStuckOnASlowServer_isAnsweredByTheHedge_andTheStuckExchangeIsCancelled()
      throws Exception {
    for (int i = 0; i < 6; i++) {
      HttpResponse<String> r = client.send(request("/g" + i).build(), BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("fast");
    }
    Hedging hedging = client.hedging().orElseThrow();
    assertThat(slow.requests.get()).as("first attempts that went to the slow server").isPositive();
    assertThat(hedging.won()).isPositive();
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(slow.requests.get()).isEqualTo((int) hedging.won()));
    assertThat(hedging.sent()).isGreaterThanOrEqualTo(hedging.won());
    // The stuck exchanges were abandoned, their leases finished: nothing stays in flight, and the
    // slow server is charged as slow, not failed.
    await().atMost(Duration.ofSeconds(10)).until(() -> totalInFlight(cluster) == 0);
    assertThat(endpoint(cluster, "slow").failures()).isZero();
    assertThat(endpoint(cluster, "slow").latencyMillis()).isGreaterThanOrEqualTo(25);
  }

  @Test
  void sendAsync_getStuckOnASlowServer_isAnsweredByTheHedge() throws Exception {
    List<CompletableFuture<HttpResponse<String>>> calls = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      calls.add(client.sendAsync(request("/a" + i).build(), BodyHandlers.ofString()));
    }
    for (CompletableFuture<HttpResponse<String>> call : calls) {
      assertThat(call.get(10, TimeUnit.SECONDS).body()).isEqualTo("fast");
    }
    assertThat(client.hedging().orElseThrow().won()).isPositive();
    await().atMost(Duration.ofSeconds(10)).until(() -> totalInFlight(cluster) == 0);
  }

  @Test
  void send_postIsNeverHedged() throws Exception {
    CompletableFuture<HttpResponse<String>> toSlow = null;
    for (int i = 0; i < 2 && toSlow == null; i++) {
      CompletableFuture<HttpResponse<String>> post =
          client.sendAsync(
              request("/p").POST(BodyPublishers.ofString("x")).build(), BodyHandlers.ofString());
      if (post.completeOnTimeout(null, 500, TimeUnit.MILLISECONDS).get() == null) {
        toSlow = post; // held by the slow server, not hedged to the fast one
      }
    }
    assertThat(toSlow).as("a POST that went to the slow server").isNotNull();
    assertThat(client.hedging().orElseThrow().sent()).isZero();
    assertThat(fast.received().stream().filter(r -> r.method().equals("POST")).count())
        .isLessThanOrEqualTo(1);
  }
}
