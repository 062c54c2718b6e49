package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.OutlierDetection;
import dev.switchboard.lb.RetryPolicy;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Regression tests for defects of the HTTP call engine (retry budget, retry rules), written against
 * public API only so they hold across a rewrite. See DEFECT-TESTS.md.
 */
class CallEngineDefectsTest {
  private final List<AutoCloseable> resources = new ArrayList<>();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable r : resources) {
      r.close();
    }
  }

  private Backend backend(String name) {
    Backend b = Backend.start(name);
    resources.add(b);
    return b;
  }

  private LoadBalancedHttpClient client(Cluster cluster) {
    resources.add(0, cluster); // closed before the backends
    return LoadBalancedHttpClient.builder().httpClient(Fixtures.http()).cluster(cluster).build();
  }

  // ---- 5. First attempts fund the retry budget, whatever backoff excludes ----------------------

  /**
   * One backend answers 503 with Retry-After (so new calls avoid it), another answers every request
   * 504 (a failing gateway; breaker and ejection are off so it stays in rotation), the third
   * answers. Retries may add up to 100% of calls and nothing more (no per-second floor), so as long
   * as every call's first attempt is counted in the budget, every GET that lands on the failing
   * backend can be retried on the healthy one.
   */
  @Test
  void getsDuringRetryAfterBackoff_failingEndpointStillRetried_firstAttemptsKeepFundingBudget()
      throws Exception {
    Backend backedOff = backend("backed-off");
    Backend failing = backend("failing");
    Backend healthy = backend("healthy");
    Cluster cluster =
        started(
            cluster(
                    BalancingPolicy.roundRobin(),
                    backedOff.instance(),
                    failing.instance(),
                    healthy.instance())
                .retryPolicy(new RetryPolicy(3, Duration.ofMillis(1), Duration.ofMillis(5), 100, 0))
                .disableCircuitBreaker()
                .outlierDetection(OutlierDetection.disabled()),
            3);
    LoadBalancedHttpClient client = client(cluster);

    for (int i = 0; i < 20; i++) { // every backend healthy: 20 calls fund 20 retries
      assertThat(client.send(request("/warm").build(), BodyHandlers.ofString()).statusCode())
          .isEqualTo(200);
    }
    backedOff.responder = Backend.status(503, Map.of("Retry-After", "60"));
    failing.responder = Backend.status(504, Map.of());
    int before = backedOff.requests.get();
    for (int i = 0; i < 6 && backedOff.requests.get() == before; i++) {
      client.send(request("/until-503").build(), BodyHandlers.ofString());
    }
    assertThat(backedOff.requests.get())
        .as("the 503 with Retry-After was seen")
        .isEqualTo(before + 1);

    Map<Integer, Integer> statuses = new TreeMap<>();
    int failingBefore = failing.requests.get();
    for (int i = 0; i < 60; i++) {
      HttpResponse<String> r = client.send(request("/g").build(), BodyHandlers.ofString());
      statuses.merge(r.statusCode(), 1, Integer::sum);
    }
    System.out.printf(
        "[budget during Retry-After] 60 GETs after the 503: statuses %s; failing backend took %d"
            + " first attempts; backed-off backend took %d more%n",
        statuses, failing.requests.get() - failingBefore, backedOff.requests.get() - before - 1);
    assertThat(failing.requests.get() - failingBefore)
        .as("GETs that landed on the failing backend")
        .isPositive();
    assertThat(statuses).as("statuses of the 60 GETs").containsOnlyKeys(200);
  }

  // ---- 6. OVERLOADED (503) is retried only when the request is idempotent ----------------------

  private LoadBalancedHttpClient busyAndOk(Backend busy, Backend ok) {
    busy.responder = Backend.status(503, Map.of());
    return client(
        started(
            cluster(BalancingPolicy.roundRobin(), busy.instance(), ok.instance())
                .outlierDetection(OutlierDetection.disabled()),
            2));
  }

  @Test
  void post_gets503_notRetried_503ReturnedToCaller() throws Exception {
    Backend busy = backend("busy");
    Backend ok = backend("ok");
    LoadBalancedHttpClient client = busyAndOk(busy, ok);

    int got503 = 0;
    for (int i = 0; i < 6 && busy.requests.get() == 0; i++) {
      HttpResponse<String> r =
          client.send(
              request("/p").POST(BodyPublishers.ofString("once")).build(), BodyHandlers.ofString());
      got503 += r.statusCode() == 503 ? 1 : 0;
    }
    assertThat(busy.requests).hasValue(1);
    assertThat(got503).as("POSTs answered 503 to the caller").isEqualTo(1);
  }

  @Test
  void get_gets503_retriedOnAnotherEndpoint() throws Exception {
    Backend busy = backend("busy");
    Backend ok = backend("ok");
    LoadBalancedHttpClient client = busyAndOk(busy, ok);

    for (int i = 0; i < 6; i++) {
      HttpResponse<String> r = client.send(request("/g").build(), BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      assertThat(r.body()).isEqualTo("ok");
    }
    assertThat(busy.requests.get()).as("GETs that met the 503 first").isPositive();
  }

  /**
   * The rule HTTP follows above (an overloaded answer to a non-idempotent request is not retried,
   * since the server may have begun processing it) must be the core's rule too: Thrift's retry
   * decisions and any integration reporting {@link Outcome#OVERLOADED} go through it.
   */
  @Test
  void overloadedOutcome_nonIdempotentCall_notRetryable_sameRuleAsHttp() {
    assertThat(Outcome.OVERLOADED.isRetryable(true)).isTrue();
    assertThat(Outcome.OVERLOADED.isRetryable(false))
        .as("OVERLOADED retryable for a non-idempotent call (HTTP does not retry a POST's 503)")
        .isFalse();
  }
}
