package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.Arrays;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;

/*
 * Weighted ring hash
 * ------------------
 * Ketama-style consistent hashing (libketama; Envoy's RingHashLoadBalancer in
 * source/extensions/load_balancing_policies/ring_hash/ring_hash_lb.cc): every member puts points
 * on a 64-bit circle, and a key belongs to the member owning the first point at or after the key's
 * hash, wrapping around. A member's points are mix64(hash64(instance id) + (replica + 1) × golden
 * ratio) for replica 0, 1, 2, ...: they depend on the member alone, not on the other members or on
 * the candidate order. So when a member leaves only its keys move (about 1/N of them), each to the
 * member owning the next point; when one joins it takes about 1/N of the keys and no key moves
 * between the others. The key itself is mixed (mix64) first, so sequential numeric keys spread.
 *
 * Weights. A member's point count is proportional to its weight: the heaviest member gets
 * POINTS_PER_HEAVIEST points and the others round(POINTS_PER_HEAVIEST × weight / maxWeight), at
 * least 1. Unlike Envoy, whose scale follows the smallest normalised weight and so changes on every
 * membership change (moving keys between members that stayed), the scale here changes only with
 * the heaviest weight, which membership changes and slow start (which lowers weights) rarely
 * touch. The ring is capped at MAX_POINTS (1 MiB of longs): beyond MAX_POINTS / POINTS_PER_HEAVIEST
 * equally weighted members the per-member count shrinks (to 131 at 1,000 members) and then changes
 * by a point or so as members come and go, moving a further ~1/points of the keys.
 *
 * Layout. Each point is one long: the top 44 bits of its position and a 20-bit member index,
 * sorted. A plain binary search over a ring of 100k points misses the cache on most of its 17
 * steps, so the ring is indexed by the top bits of the position: buckets[k] is the first point in
 * bucket k, with about BUCKET_LOAD points per bucket (positions are uniform hashes). A lookup
 * reads buckets[k] and buckets[k + 1] and scans the few points between them: two cache misses at
 * most, and no allocation. The index costs an eighth of the ring's memory.
 *
 * Exclusions. If the owner is excluded the walk continues clockwise to the first point of a member
 * the call has not excluded (the "next replica" a retry should go to). Calls without a key
 * (CallContext.hasHashKey() false, unless a key function is given) use a random position on the
 * ring, which spreads them in proportion to weight.
 */

/**
 * Consistent hashing over a weighted ring.
 *
 * <p>Immutable and thread-safe; picking never locks or allocates.
 */
final class RingHashPicker implements Picker {
  static final int POINTS_PER_HEAVIEST = 1024;
  static final int MAX_POINTS = 1 << 17;
  private static final int INDEX_BITS = 20;
  private static final long INDEX_MASK = (1L << INDEX_BITS) - 1;
  private static final long POSITION_MASK = ~INDEX_MASK;
  private static final long GOLDEN = 0x9E3779B97F4A7C15L;
  private static final int BUCKET_LOAD = 4;

  private final Endpoint[] endpoints;
  private final long[] ring;
  private final int[] buckets;
  private final int bucketShift;
  private final @Nullable ToLongFunction<CallContext> keyFunction;
  private final RandomSource random;

  private RingHashPicker(
      Candidates candidates,
      @Nullable ToLongFunction<CallContext> keyFunction,
      RandomSource random) {
    if (candidates.size() > INDEX_MASK + 1) {
      throw new IllegalArgumentException(
          "ring hash supports at most " + (INDEX_MASK + 1) + " members: " + candidates.size());
    }
    this.endpoints = candidates.endpoints();
    this.ring = buildRing(candidates, endpoints);
    int bits = Math.max(1, 31 - Integer.numberOfLeadingZeros(ring.length / BUCKET_LOAD));
    this.bucketShift = 64 - bits;
    this.buckets = new int[(1 << bits) + 1];
    int p = 0;
    for (int k = 0; k < buckets.length - 1; k++) {
      while (p < ring.length && bucket(ring[p]) < k) {
        p++;
      }
      buckets[k] = p;
    }
    buckets[buckets.length - 1] = ring.length;
    this.keyFunction = keyFunction;
    this.random = random;
  }

  static Picker create(Candidates candidates, @Nullable Picker previous) {
    return new RingHashPicker(candidates, null, RandomSource.THREAD_LOCAL);
  }

  static Picker create(
      Candidates candidates, @Nullable Picker previous, ToLongFunction<CallContext> keyFunction) {
    return new RingHashPicker(candidates, keyFunction, RandomSource.THREAD_LOCAL);
  }

  static Picker create(
      Candidates candidates,
      @Nullable ToLongFunction<CallContext> keyFunction,
      RandomSource random) {
    return new RingHashPicker(candidates, keyFunction, random);
  }

  private static long[] buildRing(Candidates c, Endpoint[] endpoints) {
    int n = c.size();
    int maxWeight = 0;
    for (int i = 0; i < n; i++) {
      maxWeight = Math.max(maxWeight, c.weight(i));
    }
    long perHeaviest =
        Math.max(1, Math.min(POINTS_PER_HEAVIEST, (long) MAX_POINTS * maxWeight / c.totalWeight()));
    int[] points = new int[n];
    long total = 0;
    for (int i = 0; i < n; i++) {
      points[i] = (int) Math.max(1, Math.round((double) perHeaviest * c.weight(i) / maxWeight));
      total += points[i];
    }
    long[] ring = new long[(int) total];
    int t = 0;
    for (int i = 0; i < n; i++) {
      long seed = Hashing.hash64(endpoints[i].instance().id());
      for (int r = 0; r < points[i]; r++) {
        ring[t++] = (Hashing.mix64(seed + (r + 1) * GOLDEN) & POSITION_MASK) | i;
      }
    }
    Arrays.sort(ring);
    return ring;
  }

  @Override
  public PickResult pick(PickArgs args, long nowNanos) {
    ToLongFunction<CallContext> f = keyFunction;
    long position;
    if (f != null) {
      position = Hashing.mix64(f.applyAsLong(args.context()));
    } else if (args.context().hasHashKey()) {
      position = Hashing.mix64(args.context().hashKey());
    } else {
      position = random.nextLong();
    }
    int p = ceilingPoint(position & POSITION_MASK);
    Endpoint e = endpoints[(int) (ring[p] & INDEX_MASK)];
    if (args.excludedCount() == 0 || !args.isExcluded(e)) {
      return e.asPickResult();
    }
    return walkPastExcluded(args, p);
  }

  /** The bucket of a position: its top bits, in the signed order the ring is sorted in. */
  private int bucket(long position) {
    return (int) ((position ^ Long.MIN_VALUE) >>> bucketShift);
  }

  /** The index of the first point at or after {@code position}, wrapping to 0. */
  private int ceilingPoint(long position) {
    long[] r = ring;
    int k = bucket(position);
    int i = buckets[k];
    int end = buckets[k + 1];
    while (i < end && r[i] < position) {
      i++;
    }
    return i == r.length ? 0 : i;
  }

  private PickResult walkPastExcluded(PickArgs args, int start) {
    if (args.excludedCount() >= endpoints.length
        && TwoChoices.nextAvailable(endpoints, args, 0, -1) < 0) {
      return PickResult.none(); // every member excluded: do not walk the whole ring
    }
    long[] r = ring;
    for (int k = 1; k < r.length; k++) {
      int p = start + k < r.length ? start + k : start + k - r.length;
      Endpoint e = endpoints[(int) (r[p] & INDEX_MASK)];
      if (!args.isExcluded(e)) {
        return e.asPickResult();
      }
    }
    return PickResult.none();
  }

  /** {@link #ceilingPoint} by plain binary search over the whole ring; for tests. */
  int ceilingPointBySearch(long position) {
    long[] r = ring;
    int lo = 0;
    int hi = r.length;
    while (lo < hi) {
      int mid = (lo + hi) >>> 1;
      if (r[mid] < position) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    return lo == r.length ? 0 : lo;
  }

  int ceilingPointByIndex(long position) {
    return ceilingPoint(position);
  }

  long point(int index) {
    return ring[index];
  }

  /** The member that owns {@code key} when nothing is excluded; for tests. */
  Endpoint owner(long key) {
    return endpoints[(int) (ring[ceilingPoint(Hashing.mix64(key) & POSITION_MASK)] & INDEX_MASK)];
  }

  int ringSize() {
    return ring.length;
  }
}
