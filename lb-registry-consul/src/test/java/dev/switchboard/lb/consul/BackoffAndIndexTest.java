package dev.switchboard.lb.consul;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BackoffAndIndexTest {

  @Test
  void backoff_doublesUpToTheMax_withEqualJitter() {
    Backoff low = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), () -> 0.0);
    Backoff high = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), () -> 0.999_999);

    long[] ceilings = {100, 200, 400, 800, 1000, 1000};
    for (int failures = 1; failures <= ceilings.length; failures++) {
      long ceiling = TimeUnit.MILLISECONDS.toNanos(ceilings[failures - 1]);
      assertThat(low.delayNanos(failures))
          .as("failure %d, lowest", failures)
          .isEqualTo(ceiling / 2);
      assertThat(high.delayNanos(failures))
          .as("failure %d, highest", failures)
          .isBetween(ceiling - 1_000, ceiling);
    }
    assertThat(low.delayNanos(10_000))
        .as("no overflow")
        .isEqualTo(TimeUnit.MILLISECONDS.toNanos(500));
  }

  @Test
  void index_resetToZeroWhenItGoesBackwards_neverBelowOne() {
    assertThat(BlockingIndex.next(0, 42)).isEqualTo(42);
    assertThat(BlockingIndex.next(42, 42)).as("wait ran out").isEqualTo(42);
    assertThat(BlockingIndex.next(42, 43)).isEqualTo(43);
    assertThat(BlockingIndex.next(42, 7)).as("went backwards: restart").isZero();
    assertThat(BlockingIndex.next(0, 0)).as("index 0 reported: block on 1").isEqualTo(1);
    assertThat(BlockingIndex.next(0, -5)).isEqualTo(1);
    assertThat(BlockingIndex.next(42, 0)).as("index 0 reported: block on 1").isEqualTo(1);
  }
}
