package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** How the latency estimate reads on the status page, in the demo and in decision traces. */
class EndpointSnapshotTest {

  @Test
  void latencyText_threeSignificantDigits_inTheUnitThatKeepsThemBelow1000() {
    assertThat(EndpointSnapshot.latencyText(420)).isEqualTo("0.42 µs");
    assertThat(EndpointSnapshot.latencyText(4_200)).isEqualTo("4.20 µs");
    assertThat(EndpointSnapshot.latencyText(187_400)).isEqualTo("187 µs");
    assertThat(EndpointSnapshot.latencyText(2_345_000)).isEqualTo("2.35 ms");
    assertThat(EndpointSnapshot.latencyText(24_000_000)).isEqualTo("24.0 ms");
    assertThat(EndpointSnapshot.latencyText(44_570_000)).isEqualTo("44.6 ms");
    assertThat(EndpointSnapshot.latencyText(1_250_000_000)).isEqualTo("1.25 s");
    assertThat(EndpointSnapshot.latencyText(3_600e9)).isEqualTo("3600 s");
  }

  @Test
  void latencyText_roundingUpToTheNextUnit_switchesUnit() {
    assertThat(EndpointSnapshot.latencyText(999_400)).isEqualTo("999 µs");
    assertThat(EndpointSnapshot.latencyText(999_600)).isEqualTo("1.00 ms");
    assertThat(EndpointSnapshot.latencyText(9_996)).isEqualTo("10.0 µs");
    assertThat(EndpointSnapshot.latencyText(99_960)).isEqualTo("100 µs");
    assertThat(EndpointSnapshot.latencyText(999_700_000)).isEqualTo("1.00 s");
  }

  @Test
  void latencyText_noCallYet_isADash() {
    assertThat(EndpointSnapshot.latencyText(0)).isEqualTo("-");
  }

  @Test
  void latencyText_negativeOrNotFinite_rejectedWithTheValue() {
    for (double bad : new double[] {-1, Double.NaN, Double.POSITIVE_INFINITY}) {
      assertThatThrownBy(() -> EndpointSnapshot.latencyText(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(
              "latency must be a finite, non-negative number of nanoseconds but was " + bad);
    }
  }
}
