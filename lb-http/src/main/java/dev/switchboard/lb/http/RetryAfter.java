package dev.switchboard.lb.http;

import java.time.Clock;
import java.time.Duration;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * Parses a {@code Retry-After} header (RFC 9110 §10.2.3): delay-seconds or an IMF-fixdate HTTP-date
 * (RFC 1123 form; the obsolete RFC 850 and asctime forms are ignored). Stateless.
 */
final class RetryAfter {
  static final String HEADER = "Retry-After";

  private RetryAfter() {}

  /**
   * The delay {@code value} asks for, measured from {@code wall}'s now and capped at {@code max};
   * empty if the value is absent, malformed or already past.
   */
  static Optional<Duration> parse(@Nullable String value, Clock wall, Duration max) {
    if (value == null || max.isZero()) {
      return Optional.empty();
    }
    String v = value.trim();
    if (v.isEmpty()) {
      return Optional.empty();
    }
    Duration delay;
    if (isDigits(v)) {
      delay = v.length() > 12 ? max : Duration.ofSeconds(Long.parseLong(v));
    } else {
      try {
        ZonedDateTime at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME);
        delay = Duration.between(wall.instant(), at.toInstant());
      } catch (DateTimeParseException e) {
        return Optional.empty();
      }
    }
    if (delay.isNegative() || delay.isZero()) {
      return Optional.empty();
    }
    return Optional.of(delay.compareTo(max) > 0 ? max : delay);
  }

  private static boolean isDigits(String v) {
    for (int i = 0; i < v.length(); i++) {
      char c = v.charAt(i);
      if (c < '0' || c > '9') {
        return false;
      }
    }
    return true;
  }
}
