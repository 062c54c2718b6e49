package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProbeCostTest {

  @Test
  void measure_probesARealResponder_andReportsEachFigure() throws Exception {
    String line = ProbeCost.measure(2_000, 0.5);

    assertThat(line)
        .matches(
            "rate 2000/s for [0-9.]+ s: answered [1-9][0-9]*/s, lost [0-9]+ of 1000; server CPU"
                + " [0-9.]+ µs per probe; caller in probe\\(\\) p50 [0-9]+ ns, p99 [0-9]+ ns");
  }
}
