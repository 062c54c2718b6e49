package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.PickArgs;

/**
 * The sampling half of power of two choices, shared by {@link LeastConnectionsPicker} and {@link
 * PeakEwmaPicker}: two distinct indices from one random draw, and the scan that replaces a sample
 * the call has excluded. Stateless and thread-safe.
 */
final class TwoChoices {
  private TwoChoices() {}

  /** {@link #sample}'s answer when every candidate is excluded. */
  static final long NONE = -1L;

  /**
   * Draws two distinct candidates the call has not excluded, packed as {@code a << 32 | b}: the
   * whole sampling half of a P2C pick. When only one candidate is available both halves hold it
   * ({@code a == b}); when none is, {@link #NONE}. Allocation-free.
   */
  static long sample(Endpoint[] endpoints, PickArgs args, RandomSource random) {
    int n = endpoints.length;
    if (n == 1) {
      return args.excludedCount() != 0 && args.isExcluded(endpoints[0]) ? NONE : 0L;
    }
    long r = random.nextLong();
    int a = first(r, n);
    int b = second(r, n, a);
    if (args.excludedCount() != 0) {
      if (args.isExcluded(endpoints[a])) {
        a = nextAvailable(endpoints, args, a, b);
      }
      if (args.isExcluded(endpoints[b])) {
        b = nextAvailable(endpoints, args, b, a);
      }
      if (a < 0 || b < 0) {
        int only = Math.max(a, b);
        return only < 0 ? NONE : pack(only, only);
      }
    }
    return pack(a, b);
  }

  private static long pack(int a, int b) {
    return ((long) a << 32) | b;
  }

  /** The first index of a {@link #sample} result. */
  static int a(long sample) {
    return (int) (sample >>> 32);
  }

  /** The second index of a {@link #sample} result. */
  static int b(long sample) {
    return (int) sample;
  }

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
  static int nextAvailable(Endpoint[] endpoints, PickArgs args, int start, int avoid) {
    int n = endpoints.length;
    for (int k = 1; k <= n; k++) {
      int i = start + k;
      if (i >= n) {
        i -= n;
      }
      if (i != avoid && !args.isExcluded(endpoints[i])) {
        return i;
      }
    }
    return -1;
  }
}
