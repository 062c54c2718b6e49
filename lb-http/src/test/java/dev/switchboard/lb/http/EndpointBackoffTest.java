package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.FakeClock;
import dev.switchboard.lb.TestEndpoints;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class EndpointBackoffTest {
  private final FakeClock clock = new FakeClock();
  private final EndpointBackoff backoff = new EndpointBackoff(clock);
  private final Endpoint a = TestEndpoints.create(9001, 100);
  private final Endpoint b = TestEndpoints.create(9002, 100);

  private CallContext excluded() {
    CallContext ctx = CallContext.builder().build();
    backoff.excludeFrom(ctx);
    return ctx;
  }

  @Test
  void backedOffEndpoint_isExcludedFromNewCalls_untilItsTimePasses() {
    assertThat(backoff.backOff(a, Duration.ofSeconds(10).toNanos())).isTrue();

    assertThat(excluded().isExcluded(a)).isTrue();
    assertThat(excluded().isExcluded(b)).isFalse();

    clock.advance(Duration.ofMillis(9_999));
    assertThat(excluded().isExcluded(a)).isTrue();
    clock.advance(Duration.ofMillis(1));
    assertThat(excluded().isExcluded(a)).isFalse();
    assertThat(excluded().excludedCount()).isZero();
  }

  @Test
  void laterDeadlineWins_andRepeatsAreNotNew() {
    backoff.backOff(a, Duration.ofSeconds(30).toNanos());

    assertThat(backoff.backOff(a, Duration.ofSeconds(5).toNanos())).isFalse();
    clock.advance(Duration.ofSeconds(10));
    assertThat(backoff.isBackedOff(a)).isTrue(); // the shorter one did not shorten it

    clock.advance(Duration.ofSeconds(20));
    assertThat(backoff.isBackedOff(a)).isFalse();
    assertThat(backoff.backOff(a, Duration.ofSeconds(5).toNanos())).isTrue(); // new again
  }
}
