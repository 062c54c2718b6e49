package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.Call.Hedging;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The hedge budget's token bucket: a burst, then a percentage of the calls. */
class HedgingBudgetTest {
  private static final Duration DELAY = Duration.ofMillis(5);

  private static int withdrawAll(Hedging h) {
    int n = 0;
    while (h.tryWithdraw()) {
      n++;
    }
    return n;
  }

  @Test
  void defaultBurst_isTenHedges() {
    assertThat(withdrawAll(Hedging.of(DELAY, 5))).isEqualTo(Hedging.BURST);
  }

  @Test
  void configuredBurst_allowsThatManyHedgesAtOnce_thenThePercentage() {
    Hedging h = Hedging.of(DELAY, 10, 3);
    assertThat(withdrawAll(h)).isEqualTo(3);
    for (int call = 0; call < 100; call++) {
      h.deposit();
    }
    // 10% of 100 calls would be 10 hedges, but the balance is capped at the burst.
    assertThat(withdrawAll(h)).isEqualTo(3);
  }

  @Test
  void zeroBurst_hedgesOnlyWithinThePercentage() {
    Hedging h = Hedging.of(DELAY, 1, 0);
    assertThat(withdrawAll(h)).isZero();
    for (int call = 0; call < 99; call++) {
      h.deposit();
    }
    assertThat(h.tryWithdraw()).as("after 99 calls at 1%").isFalse();
    h.deposit();
    assertThat(withdrawAll(h)).as("after 100 calls at 1%").isEqualTo(1);
  }

  @Test
  void badBurst_isRejected() {
    assertThatThrownBy(() -> Hedging.of(DELAY, 5, -1))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("hedge burst must be between 0 and 10000 but was -1");
  }
}
