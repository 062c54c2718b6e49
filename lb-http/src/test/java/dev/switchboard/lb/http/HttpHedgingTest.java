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
 * Hedged HTTP requests on real servers: one backend holds every request until released, the other
 * answers at once. A hedged idempotent request stuck on the slow one is answered by the fast one;
 * the stuck exchange runs on to its own end (charged as slow if answered, as a timeout if it times
 * out), and non-idempotent requests are never hedged.
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
  void send_getStuckOnASlowServer_isAnsweredByTheHedge_theLateAnswerIsChargedAsSlowNotFailed()
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
    // The abandoned exchanges run on (their attempt timeout is 10 s): released, the slow server
    // answers them, and their leases are finished as answered: slow, not failed.
    release.countDown();
    await().atMost(Duration.ofSeconds(10)).until(() -> totalInFlight(cluster) == 0);
    assertThat(endpoint(cluster, "slow").failures()).isZero();
    // Charged as slow: above the fast server's (both estimates decay over the same 1 s window,
    // so the comparison holds however long a loaded machine took to get here).
    assertThat(endpoint(cluster, "slow").latencyMillis())
        .isGreaterThan(endpoint(cluster, "fast").latencyMillis());
  }

  /**
   * The HTTP half of issue 18's "a black hole never leaves rotation": an exchange abandoned because
   * its hedge answered first, that would have timed out anyway, is charged to its endpoint as a
   * timeout. On the old code the abandoning cancelled it and the endpoint was charged nothing.
   */
  @Test
  void send_abandonedExchangeThatTimesOutOnItsOwn_isChargedToItsEndpoint() throws Exception {
    LoadBalancedHttpClient shortDeadline =
        LoadBalancedHttpClient.builder()
            .httpClient(Fixtures.http())
            .cluster(cluster)
            .defaultTimeout(Duration.ofSeconds(2)) // an attempt that may be retried gets 1 s
            .hedge(Duration.ofMillis(30), 100)
            .build();
    for (int i = 0; i < 4; i++) {
      HttpResponse<String> r =
          shortDeadline.send(request("/t" + i).build(), BodyHandlers.ofString());
      assertThat(r.body()).isEqualTo("fast");
    }
    long won = shortDeadline.hedging().orElseThrow().won();
    assertThat(won).as("requests the hedge rescued from the slow server").isPositive();
    // Every request that reached the slow server is charged when it times out: those the hedge
    // rescued, and any whose own timeout came first on a loaded machine (then the hedge did not
    // "win", but the request still cost the slow server a timeout).
    await("abandoned exchanges timed out and charged")
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(
            () ->
                assertThat(endpoint(cluster, "slow").failures())
                    .isEqualTo((long) slow.requests.get())
                    .isGreaterThanOrEqualTo(won));
    assertThat(endpoint(cluster, "fast").failures()).isZero();
    await().atMost(Duration.ofSeconds(10)).until(() -> totalInFlight(cluster) == 0);
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
    release.countDown(); // the abandoned exchanges run on until answered
    await().atMost(Duration.ofSeconds(10)).until(() -> totalInFlight(cluster) == 0);
    assertThat(endpoint(cluster, "slow").failures()).isZero();
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
