package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.FakeClock;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A 503 with Retry-After keeps new calls away from that endpoint for that long. */
class RetryAfterBackoffTest {
  private final FakeClock clock = new FakeClock();
  private Backend busy;
  private Backend ok;
  private Cluster cluster;
  private LoadBalancedHttpClient client;
  private final Map<String, Endpoint> seen = new ConcurrentHashMap<>();

  @BeforeEach
  void setUp() {
    busy = Backend.start("busy");
    ok = Backend.start("ok");
    cluster =
        started(
            cluster(BalancingPolicy.roundRobin(), busy.instance(), ok.instance())
                .outlierDetection(Fixtures.noEjection())
                .ticker(clock)
                .scheduler(clock),
            2);
    client =
        LoadBalancedHttpClient.builder()
            .httpClient(Fixtures.http())
            .cluster(cluster)
            .interceptor(
                chain -> {
                  seen.put(chain.instance().id(), chain.endpoint());
                  return chain.proceed(chain.request());
                })
            .wallClock(clock.clock())
            .build();
  }

  @AfterEach
  void tearDown() {
    cluster.close();
    busy.close();
    ok.close();
  }

  private Eligibility eligibility(Endpoint e) {
    return cluster.snapshot().endpoint(e.address()).orElseThrow().eligibility();
  }

  /** Sends GETs until {@code busy} has answered once; all of them succeed (retried on ok). */
  private void untilBusyAnswered() throws Exception {
    for (int i = 0; i < 4 && busy.requests.get() == 0; i++) {
      assertThat(client.send(request("/g").build(), BodyHandlers.ofString()).body())
          .isEqualTo("ok");
    }
    assertThat(busy.requests).hasValue(1);
  }

  @Test
  void retryAfterSeconds_backsTheEndpointOff_untilItPasses() throws Exception {
    busy.responder = Backend.status(503, Map.of("Retry-After", "120"));

    untilBusyAnswered();
    for (int i = 0; i < 20; i++) {
      client.send(request("/g").build(), BodyHandlers.ofString());
    }

    assertThat(busy.requests).hasValue(1); // round robin would have sent it 10 more
    assertThat(eligibility(seen.get("busy"))).isEqualTo(Eligibility.BACKED_OFF);
    assertThat(endpoint(cluster, "busy").failures()).isEqualTo(1); // recorded as OVERLOADED

    busy.responder = Backend::ok;
    clock.advance(Duration.ofSeconds(119));
    client.send(request("/g").build(), BodyHandlers.ofString());
    client.send(request("/g").build(), BodyHandlers.ofString());
    assertThat(busy.requests).hasValue(1);

    clock.advance(Duration.ofSeconds(1));
    assertThat(eligibility(seen.get("busy"))).isEqualTo(Eligibility.ELIGIBLE);
    for (int i = 0; i < 4; i++) {
      client.send(request("/g").build(), BodyHandlers.ofString());
    }
    assertThat(busy.requests).hasValue(3); // back in rotation
  }

  @Test
  void retryAfterHttpDate_backsTheEndpointOff() throws Exception {
    String inTwoMinutes =
        DateTimeFormatter.RFC_1123_DATE_TIME.format(
            clock.clock().instant().plusSeconds(120).atZone(ZoneOffset.UTC));
    busy.responder = Backend.status(503, Map.of("Retry-After", inTwoMinutes));

    untilBusyAnswered();
    for (int i = 0; i < 10; i++) {
      client.send(request("/g").build(), BodyHandlers.ofString());
    }
    assertThat(busy.requests).hasValue(1);

    busy.responder = Backend::ok;
    clock.advance(Duration.ofSeconds(121));
    for (int i = 0; i < 4; i++) {
      client.send(request("/g").build(), BodyHandlers.ofString());
    }
    assertThat(busy.requests).hasValue(3);
  }

  @Test
  void status503WithoutRetryAfter_doesNotBackOff() throws Exception {
    busy.responder = Backend.status(503, Map.of());

    untilBusyAnswered();
    for (int i = 0; i < 10; i++) {
      client.send(request("/g").build(), BodyHandlers.ofString());
    }

    assertThat(busy.requests.get()).isGreaterThan(3);
  }

  @Test
  void post_gets503Back_butTheEndpointIsStillBackedOff() throws Exception {
    busy.responder = Backend.status(503, Map.of("Retry-After", "60"));
    int posts503 = 0;
    for (int i = 0; i < 4 && busy.requests.get() == 0; i++) {
      HttpResponse<String> r =
          client.send(
              request("/p").POST(BodyPublishers.ofString("x")).build(), BodyHandlers.ofString());
      posts503 += r.statusCode() == 503 ? 1 : 0;
    }
    assertThat(posts503).isEqualTo(1);
    assertThat(busy.requests).hasValue(1);

    for (int i = 0; i < 10; i++) {
      assertThat(
              client
                  .send(
                      request("/p").POST(BodyPublishers.ofString("x")).build(),
                      BodyHandlers.ofString())
                  .statusCode())
          .isEqualTo(200);
    }
    assertThat(busy.requests).hasValue(1);
  }
}
