package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The endpoint's latency average. */
class EndpointTest {

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
  void latency_peaksAtOnce_thenDecaysTowardsFasterCalls() {
    long decay = Duration.ofSeconds(10).toNanos();
    Endpoint e = TestEndpoints.create(9001, 100);
    long now = 1_000_000_000L;
    TestEndpoints.record(e, Outcome.SUCCESS, 8_000_000, now);
    assertThat(e.latencyNanos(now)).isEqualTo(8_000_000.0);

    // A faster call 1 ms later moves the average by the weight of 1 ms in a 10 s window.
    now += 1_000_000;
    TestEndpoints.record(e, Outcome.SUCCESS, 2_000_000, now);
    double w = Math.exp(-1_000_000.0 / decay);
    assertThat(e.latencyNanos(now)).isCloseTo(8_000_000 * w + 2_000_000 * (1 - w), within(1e-3));

    // Five seconds later (beyond the polynomial's range), Math.exp itself.
    now += 5_000_000_000L;
    TestEndpoints.record(e, Outcome.SUCCESS, 2_000_000, now);
    assertThat(e.latencyNanos(now)).isBetween(2_000_000.0, 6_000_000.0);

    // A slower call is taken at once (the peak).
    TestEndpoints.record(e, Outcome.SUCCESS, 20_000_000, now);
    assertThat(e.latencyNanos(now)).isEqualTo(20_000_000.0);
  }
}
