package dev.switchboard.lb;

import java.time.Duration;

/** Clusters on a {@link FakeClock}, for tests in other packages. */
public final class TestClusters {
  private TestClusters() {}

  /**
   * A builder for {@code service} over {@code registry} whose ticker, timer and breaker clock are
   * {@code clock}, with registry updates applied at once (no debounce).
   */
  public static Cluster.Builder builder(String service, ServiceRegistry registry, FakeClock clock) {
    return Cluster.builder(service)
        .registry(registry)
        .updateDebounce(Duration.ZERO)
        .ticker(clock)
        .timer(clock)
        .breakerClock(clock.clock());
  }
}
