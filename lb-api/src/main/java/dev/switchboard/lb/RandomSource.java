package dev.switchboard.lb;

import java.util.concurrent.ThreadLocalRandom;

/**
 * The random bits a picker draws from, injected so tests are deterministic (Finagle's {@code
 * P2CPick} takes its {@code Rng} the same way). Production pickers use {@link #THREAD_LOCAL}.
 *
 * <p>Implementations used by pickers shared between threads must be thread-safe; test sources
 * driven from one thread need not be.
 */
@FunctionalInterface
interface RandomSource {

  /** {@link ThreadLocalRandom}: uncontended, allocation-free, thread-safe. */
  RandomSource THREAD_LOCAL = () -> ThreadLocalRandom.current().nextLong();

  /** 64 uniformly distributed random bits. */
  long nextLong();

  /**
   * Maps 64 random bits to {@code [0, bound)} by the high word of an unsigned multiplication
   * (Lemire's method without the rejection step: the bias is at most {@code bound / 2^64}).
   *
   * @param bound at least 1
   */
  static long below(long random, long bound) {
    // Unsigned high word of random × bound; bound ≥ 0 so only random's sign needs a correction.
    return Math.multiplyHigh(random, bound) + ((random >> 63) & bound);
  }

  /** Like {@link #below(long, long)} for an int bound. */
  static int below(long random, int bound) {
    return (int) below(random, (long) bound);
  }
}
