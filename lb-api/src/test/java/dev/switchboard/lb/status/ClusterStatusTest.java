package dev.switchboard.lb.status;

import static dev.switchboard.lb.status.StatusFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.FakeClock;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.TestClusters;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class ClusterStatusTest {
  private static final List<String> CLUSTER_KEYS =
      List.of(
          "service",
          "policy",
          "registryDegraded",
          "registryProblem",
          "registryAgeMillis",
          "panic",
          "endpointCount",
          "eligibleCount",
          "endpoints");
  private static final List<String> ENDPOINT_KEYS =
      List.of(
          "id",
          "address",
          "zone",
          "registeredWeight",
          "effectiveWeight",
          "inFlight",
          "ewmaMillis",
          "breakerState",
          "ejectionRemainingMillis",
          "calls",
          "failures",
          "eligibility",
          "eligibilityDescription",
          "receivesTraffic",
          "inSlowStart",
          "draining");

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> clusters(String json) {
    Map<String, Object> root = (Map<String, Object>) Json.parse(json);
    assertThat(root).containsOnlyKeys("clusters");
    return (List<Map<String, Object>>) root.get("clusters");
  }

  @SuppressWarnings("unchecked")
  static List<Map<String, Object>> endpoints(Map<String, Object> cluster) {
    return (List<Map<String, Object>>) cluster.get("endpoints");
  }

  /** Asserts the JSON schema: exact keys and value types of every cluster and endpoint. */
  static void assertSchema(List<Map<String, Object>> clusters) {
    for (Map<String, Object> c : clusters) {
      assertThat(c.keySet()).containsExactlyElementsOf(CLUSTER_KEYS);
      assertThat(c.get("service")).isInstanceOf(String.class);
      assertThat(c.get("policy")).isInstanceOf(String.class);
      assertThat(c.get("registryDegraded")).isInstanceOf(Boolean.class);
      assertThat(c.get("registryProblem"))
          .satisfiesAnyOf(
              p -> assertThat(p).isNull(), p -> assertThat(p).isInstanceOf(String.class));
      assertThat((Double) c.get("registryAgeMillis")).isNotNegative();
      assertThat(c.get("panic")).isInstanceOf(Boolean.class);
      assertThat(c.get("endpointCount")).isEqualTo((double) endpoints(c).size());
      for (Map<String, Object> e : endpoints(c)) {
        assertThat(e.keySet()).containsExactlyElementsOf(ENDPOINT_KEYS);
        for (String k :
            List.of(
                "id", "address", "zone", "breakerState", "eligibility", "eligibilityDescription")) {
          assertThat(e.get(k)).as(k).isInstanceOf(String.class);
        }
        for (String k :
            List.of(
                "registeredWeight",
                "effectiveWeight",
                "inFlight",
                "ewmaMillis",
                "ejectionRemainingMillis",
                "calls",
                "failures")) {
          assertThat(e.get(k)).as(k).isInstanceOf(Double.class);
          assertThat((Double) e.get(k)).as(k).isGreaterThanOrEqualTo(0.0);
        }
        for (String k : List.of("receivesTraffic", "inSlowStart", "draining")) {
          assertThat(e.get(k)).as(k).isInstanceOf(Boolean.class);
        }
        assertThat(Eligibility.valueOf((String) e.get("eligibility")).description())
            .isEqualTo(e.get("eligibilityDescription"));
        assertThat(CircuitBreaker.State.valueOf((String) e.get("breakerState"))).isNotNull();
      }
    }
  }

  @Test
  void registryAge_shownInJsonAndPage_growsWithTimeSinceTheLastUpdate() {
    FakeClock clock = new FakeClock();
    StaticRegistry registry = StaticRegistry.of(instance(9001, "zone-a"));
    try (Cluster cluster = TestClusters.builder("echo", registry, clock).build()) {
      clock.advance(Duration.ofMillis(12_300));

      Map<String, Object> c = clusters(ClusterStatus.of(cluster).json()).get(0);
      assertThat(c).containsEntry("registryAgeMillis", 12_300.0);
      assertThat(ClusterStatus.of(cluster).html()).contains("last registry update 12.3 s ago");

      registry.add(instance(9002, "zone-b")); // a fresh update
      assertThat(clusters(ClusterStatus.of(cluster).json()).get(0))
          .containsEntry("registryAgeMillis", 0.0);
    }
  }

  @Test
  void json_liveCluster_showsEveryEndpointWithLoadAndEjection() {
    StaticRegistry registry =
        StaticRegistry.of(instance(9001, "zone-a"), instance(9002, "zone-b"), instance(9003, ""));
    try (Cluster cluster = StatusFixture.cluster(registry)) {
      StatusFixture.eject(cluster, "127.0.0.1:9002");
      Lease held = cluster.acquire();
      String heldAddress = held.endpoint().address();

      List<Map<String, Object>> clusters = clusters(ClusterStatus.of(cluster).json());

      assertSchema(clusters);
      assertThat(clusters).hasSize(1);
      Map<String, Object> c = clusters.get(0);
      assertThat(c)
          .containsEntry("service", "echo")
          .containsEntry("policy", cluster.snapshot().policy())
          .containsEntry("registryDegraded", false)
          .containsEntry("registryProblem", null)
          .containsEntry("panic", false)
          .containsEntry("eligibleCount", 2.0);
      List<Map<String, Object>> endpoints = endpoints(c);
      assertThat(endpoints)
          .extracting(e -> e.get("address"))
          .containsExactly("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003");
      assertThat(endpoints).extracting(e -> e.get("zone")).containsExactly("zone-a", "zone-b", "");

      Map<String, Object> ejected = endpoints.get(1);
      assertThat(ejected)
          .containsEntry("eligibility", "EJECTED")
          .containsEntry("eligibilityDescription", "ejected")
          .containsEntry("receivesTraffic", false)
          .containsEntry("failures", 3.0);
      assertThat((Double) ejected.get("ejectionRemainingMillis"))
          .isGreaterThan(0.0)
          .isLessThanOrEqualTo(60_000.0);
      assertThat((Double) ejected.get("ewmaMillis")).isGreaterThan(0.0); // failure penalty

      Map<String, Object> busy =
          endpoints.stream().filter(e -> e.get("address").equals(heldAddress)).findFirst().get();
      assertThat(busy).containsEntry("inFlight", 1.0).containsEntry("eligibility", "ELIGIBLE");
      assertThat((Double) busy.get("calls")).isGreaterThan(0.0);
      held.complete(Outcome.SUCCESS);
      held.close();
    }
  }

  @Test
  void json_severalClustersAndDegradedRegistry() {
    StaticRegistry registry = StaticRegistry.of(instance(9001, "a"), instance(9002, "a"));
    try (Cluster one = StatusFixture.cluster(registry);
        Cluster two = StatusFixture.cluster(StaticRegistry.of(instance(9101, "b")))) {
      registry.set(StatusFixture.SERVICE, List.of()); // refused: keeps last known, degraded

      List<Map<String, Object>> clusters = clusters(ClusterStatus.of(one, two).json());

      assertSchema(clusters);
      assertThat(clusters).hasSize(2);
      assertThat(clusters.get(0)).containsEntry("registryDegraded", true);
      assertThat((String) clusters.get(0).get("registryProblem")).isNotBlank();
      assertThat(endpoints(clusters.get(0))).hasSize(2);
      assertThat(endpoints(clusters.get(1)))
          .extracting(e -> e.get("address"))
          .containsExactly("127.0.0.1:9101");
    }
  }

  @Test
  void json_escapesEveryAwkwardCharacter() {
    String nasty = "q\"b\\s/n\nr\rt\tc\u0001\u001f<script>&</script> é \u2028 \uD83D\uDE00";
    ClusterSnapshot s =
        new ClusterSnapshot(nasty, "p\"", true, Optional.of(nasty), true, List.of());

    String json = ClusterStatus.toJson(List.of(s));

    assertThat(json).doesNotContain("<", ">", "&", "\n", "\u0001", "\u2028");
    Map<String, Object> c = clusters(json).get(0);
    assertThat(c).containsEntry("service", nasty).containsEntry("registryProblem", nasty);
    assertThat(c).containsEntry("policy", "p\"").containsEntry("panic", true);
  }

  @Test
  void json_noClusters_isAnEmptyList() {
    assertThat(clusters(ClusterStatus.ofSnapshots(List::of).json())).isEmpty();
  }

  @Test
  void html_isSelfContained_refreshes_andShowsEveryEndpointAndWhyNotEligible() {
    StaticRegistry registry =
        StaticRegistry.of(instance(9001, "zone-a"), instance(9002, "zone-b"), instance(9003, ""));
    try (Cluster cluster = StatusFixture.cluster(registry)) {
      StatusFixture.eject(cluster, "127.0.0.1:9002");

      String html = ClusterStatus.of(cluster).html();

      assertThat(html)
          .startsWith("<!DOCTYPE html>")
          .contains("<meta http-equiv=\"refresh\" content=\"" + ClusterStatus.REFRESH_SECONDS)
          .contains("refreshes every " + ClusterStatus.REFRESH_SECONDS + " s")
          .contains("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003", "zone-a", "zone-b")
          .contains("data-eligibility=\"EJECTED\"", "data-eligibility=\"ELIGIBLE\"")
          .contains("<td>CLOSED</td>", "registry healthy")
          .contains("Effective weight", "Registered weight", "In flight", "Breaker")
          .contains("<th>Latency (peak EWMA)</th>")
          .containsPattern("<td class=\"n\">\\d+(\\.\\d+)? (µs|ms|s)</td>")
          .contains("Ejected until", "Calls", "Failures", "State", "Why not eligible")
          .contains("Traffic", "Slow start")
          .doesNotContain("PANIC", "REGISTRY DEGRADED");
      assertThat(html)
          .containsPattern(
              "data-address=\"127.0.0.1:9002\" data-eligibility=\"EJECTED\">.*"
                  + "<td>\\d\\d:\\d\\d:\\d\\d UTC</td>.*"
                  + "<td class=\"why\">ejected by outlier detection, \\d+\\.\\d s left</td>");
      // No external assets: no scripts, stylesheets, images, fonts or absolute links.
      assertThat(html)
          .doesNotContain("<script", "<link", "<img", "<iframe", "src=", "url(", "@import")
          .doesNotContain("http://", "https://", "//");
    }
  }

  @Test
  void html_ejectedEndpoint_showsWhenTheEjectionEnds_andTheTimeLeft() {
    EndpointSnapshot ejected =
        new EndpointSnapshot(
            instance(9002, "zone-b"),
            100,
            0,
            1000.0,
            CircuitBreaker.State.CLOSED,
            Duration.ofMillis(59_960),
            10,
            3,
            Eligibility.EJECTED,
            false,
            false);
    ClusterSnapshot s =
        new ClusterSnapshot(
            "echo", "round_robin", false, Optional.empty(), false, List.of(ejected));

    String html = ClusterStatus.toHtml(List.of(s), Instant.parse("2026-11-23T23:59:30Z"));

    assertThat(html)
        .contains("Rendered 2026-11-23 23:59:30 UTC")
        .contains(
            "<tr class=\"endpoint bad\" data-address=\"127.0.0.1:9002\""
                + " data-eligibility=\"EJECTED\">")
        .contains("<td>00:00:29 UTC</td>") // 23:59:30 + 59.96 s, across midnight
        .contains(
            "<td>EJECTED</td><td class=\"why\">ejected by outlier detection, 60.0 s left</td>");
  }

  @Test
  void whyNotEligible_namesTheReason_andPanicMode() {
    EndpointSnapshot draining =
        new EndpointSnapshot(
            instance(9004, "zone-b").withDraining(true),
            100,
            0,
            0.0,
            CircuitBreaker.State.CLOSED,
            Duration.ZERO,
            0,
            0,
            Eligibility.DRAINING,
            false,
            false);
    EndpointSnapshot ejectedInPanic =
        new EndpointSnapshot(
            instance(9002, "zone-b"),
            100,
            0,
            0.0,
            CircuitBreaker.State.CLOSED,
            Duration.ofSeconds(30),
            3,
            3,
            Eligibility.EJECTED,
            true,
            false);

    assertThat(ClusterStatus.whyNotEligible(draining)).isEqualTo("draining");
    assertThat(ClusterStatus.whyNotEligible(ejectedInPanic))
        .isEqualTo("ejected by outlier detection, 30.0 s left (still takes calls: panic mode)");
  }

  @Test
  void html_flagsPanicAndDegradedRegistry_andEscapesText() {
    EndpointSnapshot e =
        new EndpointSnapshot(
            instance(9001, "<z&\"one>"),
            0,
            0,
            12.5,
            CircuitBreaker.State.OPEN,
            Duration.ZERO,
            4,
            4,
            Eligibility.CIRCUIT_OPEN,
            true,
            true);
    ClusterSnapshot s =
        new ClusterSnapshot("svc<b>", "least", true, Optional.of("zk <gone>"), true, List.of(e));

    String html = ClusterStatus.toHtml(List.of(s));

    assertThat(html)
        .contains("PANIC", "REGISTRY DEGRADED", "zk &lt;gone&gt;", "svc&lt;b&gt;")
        .contains("&lt;z&amp;&quot;one&gt;", "<td>OPEN</td>", "12.5")
        .contains(
            "<td>CIRCUIT_OPEN</td><td class=\"why\">circuit breaker open (still takes calls: panic mode)")
        .doesNotContain("<b>", "<gone>", "<z&");
  }
}
