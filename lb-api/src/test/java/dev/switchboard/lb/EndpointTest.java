package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The endpoint's latency average. */
class EndpointTest {
  private static final long MS = 1_000_000L;
  private static final long US = 1_000L;

  @Test
  void decayWeight_agreesWithExp_onBothSidesOfThePolynomialRange() {
    for (double x = 0; x <= 0.05; x += 1.0 / 4096) {
      assertThat(Endpoint.decayWeight(x)).as("x=%s", x).isCloseTo(Math.exp(-x), within(1e-8));
    }
    for (double x : new double[] {1e-12, 1e-8, 1.0 / 64, 0.5, 1, 3, 50}) {
      assertThat(Endpoint.decayWeight(x)).as("x=%s", x).isCloseTo(Math.exp(-x), within(1e-8));
    }
  }

  @Test
  void latency_peaksAtOnce_thenBlendsFasterAnswersByTimeAndByAnswer() {
    long window = Duration.ofSeconds(1).toNanos(); // the default time window
    double perAnswer = Math.exp(-1.0 / 10); // ten answers replace all but 1/e
    Endpoint e = TestEndpoints.create(9001, 100);
    long now = 1_000_000_000L;
    TestEndpoints.record(e, Outcome.SUCCESS, 8 * MS, now);
    assertThat(e.latencyNanos(now)).isEqualTo(8 * MS);

    // A faster answer 1 ms later keeps e^-(1 ms / 1 s + 1/10) of the old estimate.
    now += MS;
    TestEndpoints.record(e, Outcome.SUCCESS, 2 * MS, now);
    double w = perAnswer * Math.exp(-(double) MS / window);
    assertThat(e.latencyNanos(now)).isCloseTo(8 * MS * w + 2 * MS * (1 - w), within(1e-3));

    // A slower answer is taken at once (the peak).
    TestEndpoints.record(e, Outcome.SUCCESS, 20 * MS, now);
    assertThat(e.latencyNanos(now)).isEqualTo(20 * MS);
  }

  @Test
  void latency_oneStartUpSpike_isForgottenWithinOneSecondOfFastAnswers() {
    // The demo's start: a 44 ms first answer (class loading, JIT), then 0.2 ms answers; 100 a
    // second here, the demo makes thousands. With a time-only decay over 10 s it stayed ~40 ms.
    Endpoint e = TestEndpoints.create(9001, 100);
    long now = 1_000_000_000L;
    TestEndpoints.record(e, Outcome.SUCCESS, 44 * MS, now);
    for (int i = 0; i < 100; i++) {
      now += 10 * MS;
      TestEndpoints.record(e, Outcome.SUCCESS, 200 * US, now);
    }
    assertThat(e.latencyNanos(now)).isBetween(200.0 * US, 1.0 * MS);
  }

  @Test
  void latency_quietEndpoint_forgetsASpikeWithinThreeSecondsOfFastAnswers() {
    // Ten answers a second: the time window does most of the forgetting.
    Endpoint e = TestEndpoints.create(9001, 100);
    long now = 1_000_000_000L;
    TestEndpoints.record(e, Outcome.SUCCESS, 44 * MS, now);
    for (int i = 0; i < 30; i++) {
      now += 100 * MS;
      TestEndpoints.record(e, Outcome.SUCCESS, 200 * US, now);
    }
    assertThat(e.latencyNanos(now)).isBetween(200.0 * US, 1.0 * MS);
  }

  @Test
  void latency_slowOnEveryTenthAnswer_neverLooksLikeAFastServer() {
    // A server whose every tenth answer takes 20 ms among 0.2 ms ones, 1000 answers a second:
    // fast answers forget each slow one, but never down to anywhere near 0.2 ms.
    Endpoint e = TestEndpoints.create(9001, 100);
    long now = 1_000_000_000L;
    double lowest = Double.MAX_VALUE;
    for (int i = 0; i < 1000; i++) {
      now += MS;
      TestEndpoints.record(e, Outcome.SUCCESS, i % 10 == 0 ? 20 * MS : 200 * US, now);
      lowest = Math.min(lowest, e.latencyNanos(now));
    }
    assertThat(lowest).isGreaterThan(5.0 * MS);
  }

  @Test
  void latency_withoutAnswers_decaysTowardsZeroOverTheWindow() {
    // So a server avoided after a slow answer is tried again: 20 ms is down to 0.13 ms after 5 s.
    Endpoint e = TestEndpoints.create(9001, 100);
    long now = 1_000_000_000L;
    TestEndpoints.record(e, Outcome.SUCCESS, 20 * MS, now);
    assertThat(e.latencyNanos(now + 5_000 * MS)).isCloseTo(20 * MS * Math.exp(-5), within(1.0));
  }

  @Test
  void cluster_byDefault_showsAStartUpSpikeForgottenWithinOneSecondOfFastCalls() {
    // The same through a cluster's defaults, leases and injected clock, as the demo sees it.
    ClusterFixture f = new ClusterFixture();
    f.addMembers(9001, 1);
    try (Cluster cluster = f.builder(BalancingPolicy.peakEwma()).build()) {
      Lease first = cluster.acquire();
      f.clock.advance(Duration.ofMillis(44));
      first.complete(Outcome.SUCCESS);
      assertThat(cluster.snapshot().endpoints().get(0).latencyMillis()).isEqualTo(44.0);
      for (int i = 0; i < 100; i++) {
        Lease lease = cluster.acquire();
        f.clock.advance(Duration.ofNanos(200 * US));
        lease.complete(Outcome.SUCCESS);
        f.clock.advance(Duration.ofNanos(10 * MS - 200 * US));
      }
      assertThat(cluster.snapshot().endpoints().get(0).latencyMillis()).isBetween(0.15, 1.0);
    }
  }
}
