package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.PickArgs;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.jspecify.annotations.Nullable;

/*
 * The probe pool
 * --------------
 * Prequal's client state: the last few probe answers, each an immutable Probe in one slot of a
 * fixed array. Answers arrive on the prober's thread and picks run on callers' threads, so the
 * slots are swapped by compare-and-set, never locked; a lost race only drops or reuses one answer,
 * which is harmless for a signal that ages out in a second.
 *
 * An answer takes an empty or expired slot, else the oldest answer's. A pick reads the slots into
 * a thread-local scratch array (no allocation), drops expired answers and answers about members
 * that left, skips members the call excluded, and applies the hot-cold rule: the hot threshold is
 * the RIF at the quantile's rank among the usable answers (the k-th smallest, k = max(1, floor(q * n)),
 * found by counting, at most 64 × 64 comparisons). Cold answers are those below the threshold, and
 * those at the lowest RIF of the pool, which are never hot; they are ranked by latency, then RIF;
 * if none is cold, the lowest RIF wins. An answer's RIF follows this client's own calls in flight
 * to the member since it arrived (see Probe), and the answer is dropped once used up.
 *
 * Below rather than at most: with a few members, one busy member is more than the 16% of answers
 * the quantile expects to be hot, and at most the threshold would call it cold whenever it holds
 * the quantile's rank (with 5 members, 1 busy, about 40% of the time). A member at the pool's
 * lowest RIF is always cold, so that a pool of equal loads is still ranked by latency.
 *
 * A member whose last call failed fast (not a timeout) is ranked after every other (its RIF
 * counted as infinite), so a member that fails fast, and so reports an empty queue, does not
 * attract the calls (Prequal's sinkholing). Its answers stay in the pool: once a call to it
 * succeeds they count again.
 */

/** The probe answers of one cluster's Prequal pickers. Thread-safe; picks never lock. */
final class ProbePool implements Prequal.Replies {
  static final int MAX_SIZE = 64;
  private static final ThreadLocal<Probe[]> SCRATCH =
      ThreadLocal.withInitial(() -> new Probe[MAX_SIZE]);
  private static final ThreadLocal<int[]> SLOTS = ThreadLocal.withInitial(() -> new int[MAX_SIZE]);
  // Each usable answer's RIF, read once per pick: it follows live in-flight counts, and reading it
  // again in the quantile's n × n comparisons would cost as many volatile reads and could see it
  // change half way.
  private static final ThreadLocal<long[]> RIFS = ThreadLocal.withInitial(() -> new long[MAX_SIZE]);

  /** The pool's settings; times in nanoseconds. */
  record Settings(
      int size, long maxAgeNanos, double hotQuantile, int maxUses, int maxProbesPerSecond) {
    long probeIntervalNanos() {
      return 1_000_000_000L / maxProbesPerSecond;
    }
  }

  /**
   * One answer, and what this client has done to the member since: the calls it placed through this
   * answer (for the use limit), and its own calls in flight to the member when the answer arrived,
   * so the member's load is estimated as the answered RIF plus the change in this client's own
   * calls in flight since. Prequal adds one per use instead; that never comes down, and when the
   * probe budget makes answers serve many fast calls each, a reused answer of an idle member soon
   * looked busier than a busy member's (with one of five members kept busy by another client, it
   * took 2 to 8% of the calls instead of 0.3%).
   */
  static final class Probe {
    final Endpoint endpoint;
    final int answeredRif;
    final long latencyNanos;
    final long receivedNanos;
    final AtomicInteger placed = new AtomicInteger();
    final int ownInFlightAtAnswer;

    Probe(Endpoint endpoint, int answeredRif, long latencyNanos, long receivedNanos) {
      this.endpoint = endpoint;
      this.ownInFlightAtAnswer = endpoint.inFlight();
      this.answeredRif = answeredRif;
      this.latencyNanos = latencyNanos;
      this.receivedNanos = receivedNanos;
    }

    /** The member's requests in flight as this client now estimates them. */
    int rif() {
      return Math.max(0, answeredRif + endpoint.inFlight() - ownInFlightAtAnswer);
    }
  }

  private final Settings settings;
  private final AtomicReferenceArray<Probe> slots;
  // The probe budget as a generic cell rate algorithm: the theoretical arrival time of the next
  // probe; a probe may go if it is no more than a tenth of a second's budget early.
  private final AtomicLong probeBudget = new AtomicLong(Long.MIN_VALUE);
  private volatile Set<Endpoint> members = Set.of();

  ProbePool(Settings settings) {
    this.settings = settings;
    this.slots = new AtomicReferenceArray<>(settings.size());
  }

  Settings settings() {
    return settings;
  }

  /** The members answers are kept for; answers about others are dropped. */
  void members(Set<Endpoint> members) {
    this.members = members;
  }

  @Override
  public void accept(Endpoint endpoint, int requestsInFlight, long latencyNanos, long now) {
    if (!members.contains(endpoint)) {
      return;
    }
    Probe probe = new Probe(endpoint, Math.max(0, requestsInFlight), latencyNanos, now);
    for (int attempt = 0; attempt < 3; attempt++) {
      int victim = -1;
      Probe old = null;
      for (int i = 0; i < slots.length(); i++) {
        Probe p = slots.get(i);
        if (p == null || now - p.receivedNanos > settings.maxAgeNanos()) {
          victim = i;
          old = p;
          break;
        }
        if (old == null || p.receivedNanos < old.receivedNanos) {
          victim = i;
          old = p;
        }
      }
      if (slots.compareAndSet(victim, old, probe)) {
        return;
      }
    }
  }

  /** Whether the budget allows one more probe now (and takes it). Lock-free; one CAS. */
  boolean tryProbe(long nowNanos) {
    long interval = settings.probeIntervalNanos();
    long burst = Math.max(interval, 100_000_000L);
    long tat = probeBudget.get();
    long start = tat == Long.MIN_VALUE || tat - nowNanos < 0 ? nowNanos : tat;
    if (start - nowNanos > burst) {
      return false;
    }
    return probeBudget.compareAndSet(tat, start + interval);
  }

  /**
   * The endpoint the hot-cold rule picks among usable answers, or null if none is usable (the
   * caller falls back to its own signals).
   *
   * @param reuse whether the answer may place more calls than {@link Settings#maxUses} (the probe
   *     budget held this pick's probes back)
   */
  @Nullable Endpoint select(PickArgs args, long nowNanos, boolean reuse) {
    Probe[] usable = SCRATCH.get();
    int[] at = SLOTS.get();
    long[] rifs = RIFS.get();
    Set<Endpoint> current = members;
    long least = Long.MAX_VALUE;
    int n = 0;
    for (int i = 0; i < slots.length(); i++) {
      Probe p = slots.get(i);
      if (p == null) {
        continue;
      }
      if (nowNanos - p.receivedNanos > settings.maxAgeNanos() || !current.contains(p.endpoint)) {
        slots.compareAndSet(i, p, null);
        continue;
      }
      if (args.excludedCount() != 0 && args.isExcluded(p.endpoint)) {
        continue;
      }
      usable[n] = p;
      rifs[n] = rif(p);
      least = Math.min(least, rifs[n]);
      at[n++] = i;
    }
    if (n == 0) {
      return null;
    }
    long threshold = hotThreshold(rifs, n);
    int best = -1;
    for (int i = 0; i < n; i++) {
      if (best < 0 || better(usable, rifs, i, best, threshold, least)) {
        best = i;
      }
    }
    Probe chosen = usable[best];
    if (chosen.placed.incrementAndGet() >= settings.maxUses() && !reuse) {
      slots.compareAndSet(at[best], chosen, null);
    }
    Arrays.fill(usable, 0, n, null); // keeps no endpoint reachable from the thread
    return chosen.endpoint;
  }

  /**
   * The RIF a member counts with: infinite while this client's last call to it failed fast
   * (refused, reset, overloaded), which is what makes a sinkhole look idle. A timeout is not such a
   * failure: past capacity every member times out some calls, and counting those made the pool pile
   * onto the few members that had not (in the simulator at 100% load with antagonists, 43% of calls
   * timed out instead of 23%).
   */
  private static long rif(Probe p) {
    return p.endpoint.failedFast() ? Long.MAX_VALUE : p.rif();
  }

  /**
   * The k-th smallest RIF, k = max(1, floor(quantile × n)): members at or above it are hot, unless
   * they are at the pool's lowest RIF. Rounding down lets the pool's busiest answer be hot even in
   * a small pool (with 4 answers and 0.84, the threshold is the third smallest).
   */
  private long hotThreshold(long[] rifs, int n) {
    int k = Math.max(1, (int) Math.floor(settings.hotQuantile() * n));
    long threshold = Long.MAX_VALUE;
    for (int i = 0; i < n; i++) {
      long v = rifs[i];
      if (v >= threshold) {
        continue;
      }
      int atMost = 0;
      for (int j = 0; j < n; j++) {
        atMost += rifs[j] <= v ? 1 : 0;
      }
      if (atMost >= k) {
        threshold = v;
      }
    }
    return threshold;
  }

  /** Whether answer {@code a} beats {@code b}: cold before hot; cold by latency, hot by RIF. */
  private static boolean better(
      Probe[] usable, long[] rifs, int ia, int ib, long threshold, long least) {
    Probe a = usable[ia];
    Probe b = usable[ib];
    long rifA = rifs[ia];
    long rifB = rifs[ib];
    boolean coldA = cold(rifA, threshold, least);
    boolean coldB = cold(rifB, threshold, least);
    if (coldA != coldB) {
      return coldA;
    }
    if (coldA && a.latencyNanos != b.latencyNanos) {
      return a.latencyNanos < b.latencyNanos;
    }
    return rifA < rifB;
  }

  private static boolean cold(long rif, long threshold, long least) {
    return rif != Long.MAX_VALUE && (rif < threshold || rif == least);
  }
}
