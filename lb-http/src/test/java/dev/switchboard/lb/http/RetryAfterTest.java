package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class RetryAfterTest {
  private static final Clock NOW =
      Clock.fixed(Instant.parse("2026-03-01T12:00:00Z"), ZoneOffset.UTC);
  private static final Duration MAX = Duration.ofMinutes(5);

  @Test
  void seconds() {
    assertThat(RetryAfter.parse("120", NOW, MAX)).contains(Duration.ofSeconds(120));
    assertThat(RetryAfter.parse(" 7 ", NOW, MAX)).contains(Duration.ofSeconds(7));
  }

  @Test
  void httpDate_isMeasuredFromTheWallClock() {
    assertThat(RetryAfter.parse("Sun, 01 Mar 2026 12:01:30 GMT", NOW, MAX))
        .contains(Duration.ofSeconds(90));
  }

  @Test
  void longerThanTheCap_isCapped() {
    assertThat(RetryAfter.parse("86400", NOW, MAX)).contains(MAX);
    assertThat(RetryAfter.parse("99999999999999999999", NOW, MAX)).contains(MAX);
    assertThat(RetryAfter.parse("Mon, 02 Mar 2026 12:00:00 GMT", NOW, MAX)).contains(MAX);
  }

  @Test
  void absentZeroPastOrMalformed_isEmpty() {
    assertThat(RetryAfter.parse(null, NOW, MAX)).isEqualTo(Optional.empty());
    assertThat(RetryAfter.parse("", NOW, MAX)).isEmpty();
    assertThat(RetryAfter.parse("0", NOW, MAX)).isEmpty();
    assertThat(RetryAfter.parse("-5", NOW, MAX)).isEmpty();
    assertThat(RetryAfter.parse("1.5", NOW, MAX)).isEmpty();
    assertThat(RetryAfter.parse("soon", NOW, MAX)).isEmpty();
    assertThat(RetryAfter.parse("Sun, 01 Mar 2026 11:00:00 GMT", NOW, MAX)).isEmpty();
  }

  @Test
  void zeroCap_ignoresTheHeader() {
    assertThat(RetryAfter.parse("120", NOW, Duration.ZERO)).isEmpty();
  }
}
