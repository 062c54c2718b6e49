package dev.switchboard.lb.policy;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;

/**
 * The sampling half of power of two choices, shared by {@link LeastConnectionsPicker} and {@link
 * PeakEwmaPicker}: two distinct indices from one random draw, and the scan that replaces a sample
 * the call has excluded. Stateless and thread-safe.
 */
final class TwoChoices {
  private TwoChoices() {}

  /** The first sample: uniform in {@code [0, n)}. */
  static int first(long random, int n) {
    return RandomSource.below(random, n);
  }

  /**
   * The second sample: uniform over {@code [0, n)} without {@code first} (Envoy#11004: drawing it
   * independently picks the same member twice with probability 1/n, half the time with 2 members).
   * It uses the low word of {@code random × n}, which is uniform and independent of the first
   * sample's high word, so one draw serves both. Requires {@code n >= 2}.
   */
  static int second(long random, int n, int first) {
    int b = RandomSource.below(random * n, n - 1);
    return b + ((first - b - 1) >>> 31); // b >= first ? b + 1 : b, without a branch
  }

  /**
   * {@code a} if {@code preferA >= 0}, else {@code b}, without a branch: which sample wins is a
   * coin toss to the branch predictor, and a mispredicted branch costs more than the whole
   * comparison.
   */
  static int choose(int a, int b, long preferA) {
    return b ^ ((a ^ b) & ~(int) (preferA >> 63));
  }

  /**
   * The first index after {@code start} (cyclically, {@code start} itself last) that the call has
   * not excluded and that is not {@code avoid}; -1 if none.
   */
  static int nextAvailable(Endpoint[] endpoints, CallContext ctx, int start, int avoid) {
    int n = endpoints.length;
    for (int k = 1; k <= n; k++) {
      int i = start + k;
      if (i >= n) {
        i -= n;
      }
      if (i != avoid && !ctx.isExcluded(endpoints[i])) {
        return i;
      }
    }
    return -1;
  }
}
