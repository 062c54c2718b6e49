package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.Arrays;
import org.jspecify.annotations.Nullable;

/*
 * Smooth weighted round robin
 * ---------------------------
 * The order is nginx's smooth weighted round robin (ngx_http_upstream_get_peer in
 * src/http/ngx_http_upstream_round_robin.c, also Dubbo's RoundRobinLoadBalance): each step every
 * member's current weight grows by its weight, the member with the largest current weight (the
 * first one on ties) is picked, and its current weight drops by the total. With weights 5:1:1 the
 * order is a a b a c a a, not a a a a a b c: no member gets a burst, and over any prefix each
 * member's count stays within one of its share.
 *
 * Schedule. nginx walks all n members on every pick. The picker instead runs the algorithm once
 * per rebuild, over one period, into an array of endpoints; a pick reads one array slot. The
 * weights are first divided by their gcd (equal weights give the identity schedule, O(n)). If the
 * reduced weights sum to more than MAX_SCHEDULE they are scaled to sum to about MAX_SCHEDULE,
 * each rounded and at least 1: the approximation moves a member's share by at most half a slot in
 * MAX_SCHEDULE / n slots (at 1,000 members about 0.8% of its share; members of weight 1 among
 * weights of 10,000 get somewhat more than their share). nginx's generation costs n steps per slot,
 * so when n × slots exceeds NGINX_WORK it is replaced by the Sainte-Laguë (Webster) spread, which
 * has the same no-burst property in O(slots log slots): member i takes the slots whose midpoints
 * (k + 1/2) / weight_i come next. At 1,000 members a rebuild costs a few milliseconds, on the
 * cluster's executor, never on the pick path.
 *
 * Cursor. A shared counter costs one contended cache line per pick (grpc-java measured its
 * AtomicInteger round robin at 3.9 ns/op on one thread and 39 ns/op on two). Here the cursor is
 * striped: each thread uses the stripe its thread id selects; stripes are 128 bytes apart so
 * neighbours do not share a cache line, and they are bumped with plain, racy writes. Two threads
 * that share a stripe may read the same position and pick the same endpoint, losing a step; each
 * stripe still walks the smooth order, so the spread stays even, but counts are exact only per
 * stripe. Every stripe starts at a random position: clients restarted together would otherwise
 * all send their first calls to the same member (grpc-java PR #4462 measured 3-4x load on some
 * servers after a deploy). The cursor object passes from the previous picker to the next one, so
 * a rebuild continues the sequence instead of restarting it.
 *
 * Exclusions. A scheduled endpoint the call excludes is skipped by advancing along the schedule
 * (up to MAX_SKIP slots); past that, the next non-excluded candidate is taken, or none.
 */

/**
 * Smooth weighted round robin over a precomputed schedule, with a striped cursor.
 *
 * <p>Thread-safe; picking never locks or allocates. The cursor's racy updates may make two threads
 * pick the same endpoint; they never make a pick fail.
 */
final class RoundRobinPicker implements Picker {
  static final int MAX_SCHEDULE = 1 << 16;
  static final long NGINX_WORK = 1L << 22;
  private static final int MAX_SKIP = 64;

  private final Endpoint[] endpoints;
  private final Endpoint[] schedule;
  private final Cursor cursor;

  private RoundRobinPicker(Candidates candidates, Cursor cursor) {
    this.endpoints = candidates.endpoints();
    this.schedule = buildSchedule(candidates, endpoints);
    this.cursor = cursor;
  }

  static Picker create(Candidates candidates, @Nullable Picker previous) {
    return create(candidates, previous, RandomSource.THREAD_LOCAL);
  }

  /** As {@link #create(Candidates, Picker)}, drawing fresh cursors' start positions from random. */
  static Picker create(Candidates candidates, @Nullable Picker previous, RandomSource random) {
    Cursor cursor =
        previous instanceof RoundRobinPicker rr ? rr.cursor : new Cursor(Cursor.STRIPES, random);
    return new RoundRobinPicker(candidates, cursor);
  }

  @Override
  public PickResult pick(PickArgs args, long nowNanos) {
    Endpoint[] s = schedule;
    int len = s.length;
    int[] slots = cursor.slots;
    int slot = cursor.slot(Thread.currentThread().getId());
    int c = slots[slot];
    if (c >= len) {
      c %= len; // only after a rebuild shortened the schedule
    }
    Endpoint e = s[c];
    if (args.excludedCount() != 0 && args.isExcluded(e)) {
      return pickSkipping(args, c, slots, slot);
    }
    int next = c + 1;
    slots[slot] = next == len ? 0 : next;
    return e.asPickResult();
  }

  private PickResult pickSkipping(PickArgs args, int c, int[] slots, int slot) {
    Endpoint[] s = schedule;
    int len = s.length;
    int p = c;
    for (int k = 0; k < Math.min(len, MAX_SKIP); k++) {
      p = p + 1 == len ? 0 : p + 1;
      if (!args.isExcluded(s[p])) {
        slots[slot] = p + 1 == len ? 0 : p + 1;
        return s[p].asPickResult();
      }
    }
    int i = TwoChoices.nextAvailable(endpoints, args, c % endpoints.length, -1);
    return i < 0 ? PickResult.none() : endpoints[i].asPickResult();
  }

  int scheduleLength() {
    return schedule.length;
  }

  Endpoint scheduled(int position) {
    return schedule[position];
  }

  // ---- schedule -----------------------------------------------------------------------------

  static Endpoint[] buildSchedule(Candidates candidates, Endpoint[] endpoints) {
    if (candidates.hasUniformWeights()) {
      return endpoints;
    }
    int[] w = reducedWeights(candidates.weights());
    long slots = 0;
    for (int x : w) {
      slots += x;
    }
    return slots * w.length <= NGINX_WORK
        ? nginxOrder(endpoints, w, (int) slots)
        : websterOrder(endpoints, w, (int) slots);
  }

  /** Weights divided by their gcd, then scaled to sum to about {@link #MAX_SCHEDULE}. */
  static int[] reducedWeights(int[] weights) {
    int g = 0;
    long sum = 0;
    for (int x : weights) {
      g = gcd(g, x);
      sum += x;
    }
    int[] w = new int[weights.length];
    for (int i = 0; i < w.length; i++) {
      w[i] = weights[i] / g;
    }
    sum /= g;
    if (sum > MAX_SCHEDULE) {
      double scale = (double) MAX_SCHEDULE / sum;
      g = 0;
      for (int i = 0; i < w.length; i++) {
        w[i] = (int) Math.max(1, Math.round(w[i] * scale));
        g = gcd(g, w[i]);
      }
      for (int i = 0; i < w.length; i++) {
        w[i] /= g;
      }
    }
    return w;
  }

  private static int gcd(int a, int b) {
    while (b != 0) {
      int t = a % b;
      a = b;
      b = t;
    }
    return a;
  }

  /** nginx's smooth weighted round robin, one period; O(n × slots). */
  private static Endpoint[] nginxOrder(Endpoint[] endpoints, int[] w, int slots) {
    int n = w.length;
    int[] current = new int[n];
    Endpoint[] order = new Endpoint[slots];
    for (int t = 0; t < slots; t++) {
      int best = 0;
      current[0] += w[0];
      for (int i = 1; i < n; i++) {
        current[i] += w[i];
        if (current[i] > current[best]) {
          best = i;
        }
      }
      current[best] -= slots;
      order[t] = endpoints[best];
    }
    return order;
  }

  /**
   * The Sainte-Laguë spread: member i's k-th slot sits at (k + 1/2) / w[i] of the period, as a
   * 40-bit fraction packed above the member index; sorting the packed keys gives the order. O(slots
   * log slots). Requires fewer than 2^23 members (the cluster has far fewer).
   */
  private static Endpoint[] websterOrder(Endpoint[] endpoints, int[] w, int slots) {
    long[] keys = new long[slots];
    int t = 0;
    for (int i = 0; i < w.length; i++) {
      for (long k = 0; k < w[i]; k++) {
        long position = ((2 * k + 1) << 40) / (2L * w[i]);
        keys[t++] = position << 23 | i;
      }
    }
    Arrays.sort(keys);
    Endpoint[] order = new Endpoint[slots];
    for (int j = 0; j < slots; j++) {
      order[j] = endpoints[(int) (keys[j] & ((1 << 23) - 1))];
    }
    return order;
  }

  /**
   * Schedule positions, one per stripe, padded to 128 bytes apart; shared by a picker and its
   * successors. Written with plain, racy stores (see the design note above).
   */
  static final class Cursor {
    static final int STRIPES =
        Integer.highestOneBit(Math.min(256, Runtime.getRuntime().availableProcessors() * 4 - 1))
            << 1;
    private static final int PAD_SHIFT = 5; // 32 ints = 128 bytes

    final int[] slots;
    private final int mask;

    Cursor(int stripes, RandomSource random) {
      this.mask = stripes - 1;
      // One padding block before the first stripe and one after the last.
      this.slots = new int[(stripes + 2) << PAD_SHIFT];
      for (int s = 0; s < stripes; s++) {
        slots[(s + 1) << PAD_SHIFT] = (int) RandomSource.below(random.nextLong(), 1L << 30);
      }
    }

    int slot(long threadId) {
      return (((int) threadId & mask) + 1) << PAD_SHIFT;
    }
  }
}
