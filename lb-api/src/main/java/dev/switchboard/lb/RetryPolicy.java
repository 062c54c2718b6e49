package dev.switchboard.lb;

import java.time.Duration;

/**
 * When a failed call may be tried again on another endpoint: only if its outcome allows it (see
 * {@link Outcome#isRetryable}), within {@code maxAttempts}, within the retry budget (retries may
 * add at most {@code budgetPercent} of calls, plus {@code minRetriesPerSecond}, as Finagle's {@code
 * RetryBudget}), and never past the call's deadline. Backoff between attempts is exponential with
 * full jitter.
 *
 * @param maxAttempts attempts per call including the first, at least 1 (1 disables retries)
 * @param initialBackoff the backoff bound before the second attempt, not negative
 * @param maxBackoff the largest backoff bound, at least {@code initialBackoff}
 * @param budgetPercent retries allowed as a percentage of calls, 0 to 1000
 * @param minRetriesPerSecond retries always allowed per second, whatever the call rate
 */
public record RetryPolicy(
    int maxAttempts,
    Duration initialBackoff,
    Duration maxBackoff,
    int budgetPercent,
    int minRetriesPerSecond) {

  public RetryPolicy {
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("maxAttempts must be at least 1 but was " + maxAttempts);
    }
    if (initialBackoff.isNegative()) {
      throw new IllegalArgumentException(
          "initialBackoff must not be negative but was " + initialBackoff);
    }
    if (maxBackoff.compareTo(initialBackoff) < 0) {
      throw new IllegalArgumentException(
          "maxBackoff ("
              + maxBackoff
              + ") must not be shorter than initialBackoff ("
              + initialBackoff
              + ")");
    }
    if (budgetPercent < 0 || budgetPercent > 1000) {
      throw new IllegalArgumentException(
          "budgetPercent must be between 0 and 1000 but was " + budgetPercent);
    }
    if (minRetriesPerSecond < 0) {
      throw new IllegalArgumentException(
          "minRetriesPerSecond must not be negative but was " + minRetriesPerSecond);
    }
  }

  /** 3 attempts, backoff 5 ms to 200 ms, budget 20% of calls plus 10 per second. */
  public static RetryPolicy defaults() {
    return new RetryPolicy(3, Duration.ofMillis(5), Duration.ofMillis(200), 20, 10);
  }

  /** Never retries. */
  public static RetryPolicy none() {
    return new RetryPolicy(1, Duration.ZERO, Duration.ZERO, 0, 0);
  }

  /**
   * The backoff before attempt {@code attempt + 1} (so {@code attempt} ≥ 1 is the number of
   * attempts made), given a uniform random number {@code random} in [0, 1): full jitter over an
   * exponentially growing bound.
   */
  long backoffNanos(int attempt, double random) {
    long initial = initialBackoff.toNanos();
    long max = maxBackoff.toNanos();
    int shift = Math.min(Math.max(attempt - 1, 0), 30);
    long bound = initial << shift;
    if (bound <= 0 || (bound >> shift) != initial || bound > max) {
      bound = max;
    }
    return (long) (bound * random);
  }
}
