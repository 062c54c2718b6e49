package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Three real backends: how each policy spreads the requests of one client. */
class BalancingTest {
  private Backend a;
  private Backend b;
  private Backend c;

  @BeforeEach
  void setUp() {
    a = Backend.start("a");
    b = Backend.start("b");
    c = Backend.start("c");
  }

  @AfterEach
  void tearDown() {
    a.close();
    b.close();
    c.close();
  }

  private static Map<String, Integer> sendSequentially(Cluster cluster, int calls)
      throws Exception {
    LoadBalancedHttpClient client =
        LoadBalancedHttpClient.builder().httpClient(Fixtures.http()).cluster(cluster).build();
    Map<String, Integer> byBackend = new HashMap<>();
    for (int i = 0; i < calls; i++) {
      String body = client.send(request("/x").build(), BodyHandlers.ofString()).body();
      byBackend.merge(body, 1, Integer::sum);
    }
    return byBackend;
  }

  @Test
  void roundRobin_spreadsExactlyEvenly() throws Exception {
    try (Cluster cluster =
        started(
            cluster(BalancingPolicy.roundRobin(), a.instance(), b.instance(), c.instance()), 3)) {
      assertThat(sendSequentially(cluster, 300))
          .containsOnly(Map.entry("a", 100), Map.entry("b", 100), Map.entry("c", 100));
    }
  }

  @Test
  void roundRobin_followsWeights() throws Exception {
    try (Cluster cluster =
        started(
            cluster(
                BalancingPolicy.roundRobin(), a.instance(100), b.instance(200), c.instance(300)),
            3)) {
      assertThat(sendSequentially(cluster, 600))
          .containsOnly(Map.entry("a", 100), Map.entry("b", 200), Map.entry("c", 300));
    }
  }

  @Test
  void weightedRandom_followsWeightsRoughly() throws Exception {
    try (Cluster cluster =
        started(
            cluster(
                BalancingPolicy.weightedRandom(),
                a.instance(100),
                b.instance(100),
                c.instance(800)),
            3)) {
      Map<String, Integer> spread = sendSequentially(cluster, 400);

      // Expected 40 / 40 / 320; bounds are more than 5 standard deviations wide.
      assertThat(spread.get("c")).isBetween(280, 360);
      assertThat(spread.getOrDefault("a", 0) + spread.getOrDefault("b", 0)).isBetween(40, 120);
    }
  }

  @Test
  void peakEwma_sendsLittleToASlowBackend() throws Exception {
    b.responder =
        (exchange, backend) -> {
          try {
            Thread.sleep(40); // a deliberately slow backend
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          Backend.ok(exchange, backend);
        };
    try (Cluster cluster =
        started(cluster(BalancingPolicy.peakEwma(), a.instance(), b.instance(), c.instance()), 3)) {
      Map<String, Integer> spread = sendSequentially(cluster, 200);

      assertThat(spread.getOrDefault("b", 0)).isLessThan(10);
      assertThat(spread.get("a")).isGreaterThan(50);
      assertThat(spread.get("c")).isGreaterThan(50);
    }
  }
}
