package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.Call.Attempt;
import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * The call engine
 * ===============
 * One logical call and its attempts, for every integration: Thrift proxies, the pooled transport
 * picker and the HTTP client all run their I/O as an Attempt (blocking) or AsyncAttempt
 * (CompletableFuture) through a Call; none of them loops itself.
 *
 * Per attempt: acquire a lease (a pick that avoids the endpoints this call already tried while
 * another exists), give it an attempt deadline, run the attempt, finish the lease with its outcome
 * (the attempt's own, SUCCESS when it returned, CANCELLED when the caller was interrupted or the
 * engine abandoned it, else the attempt's classification), then decide once whether to retry:
 *
 * - CANCELLED never counts against the endpoint and is never retried;
 * - Outcome.isRetryable(idempotent) is the one rule (connect failures always; timeouts, broken
 *   connections and OVERLOADED only for idempotent calls);
 * - at most RetryPolicy.maxAttempts, never past the deadline, and within the retry budget (every
 *   call deposits once when it starts, so the budget tracks calls whatever their attempts do;
 *   connect failures, which sent nothing, do not withdraw, as gRPC's transparent retries).
 *
 * Attempt deadlines: an idempotent attempt that may still be retried gets at most half the time
 * left, so a server that stops answering (a frozen process, a black hole) leaves room for an
 * attempt elsewhere instead of eating the whole deadline; its TIMEOUT counts against it, and
 * consecutive timeouts eject it like a dead server.
 *
 * Hedging (Call.hedge, idempotent calls only): when an attempt has not answered after the delay,
 * the same call goes to another endpoint; the first answer wins and the other attempt is
 * abandoned through its lease's cancel hooks. A primary cut short by a winning hedge is finished
 * as answered, slowly (its endpoint is charged the time it took), unless it failed on its own: a
 * connect that failed or a read that timed out is recorded as such (Attempts.isOwnFailure), or a
 * server that stopped answering would never leave rotation while hedges rescue its calls. The
 * delay is fixed, or adaptive: the percentile of recent primaries' latencies that matches the
 * hedge budget (LatencyWindow). The blocking path runs the
 * primary on the caller's thread and hedges on the cluster's hedge threads; the asynchronous path
 * runs both as futures.
 *
 * The tried set is copy-on-write: hedges add to it from other threads while pickers read it.
 */

/**
 * One logical call through a {@link Cluster}: its attempts, the endpoints it tried, retries within
 * the retry policy and budget, its deadline, hedging and cancellation. Made by {@link
 * Cluster#newCall}, configured, then run once:
 *
 * <pre>{@code
 * String reply = cluster.newCall(ctx).run(lease -> send(lease.instance(), request));
 * CompletableFuture<Reply> f = cluster.newCall(ctx).hedge(hedging).runAsync(lease -> sendAsync(lease));
 * }</pre>
 *
 * <p>Not thread-safe to configure; {@link #run} or {@link #runAsync} is called once.
 */
public final class Call implements PickArgs {
  private static final Logger logger = LoggerFactory.getLogger(Call.class);
  private static final Endpoint[] NONE = new Endpoint[0];

  private final Cluster cluster;
  private final CallContext ctx;
  private @Nullable Hedging hedging;
  private boolean started;
  private int maxAttempts;
  private volatile Endpoint[] tried = NONE;

  Call(Cluster cluster, CallContext ctx) {
    this.cluster = cluster;
    this.ctx = ctx;
    this.maxAttempts = cluster.retryPolicy().maxAttempts();
  }

  @Override
  public CallContext context() {
    return ctx;
  }

  /**
   * Hedges this call with {@code hedging} if it is idempotent (a non-idempotent call is never sent
   * twice); null turns hedging off.
   *
   * @throws IllegalStateException if the call already ran
   */
  public Call hedge(@Nullable Hedging hedging) {
    requireNotStarted();
    this.hedging = hedging;
    return this;
  }

  /**
   * Makes at most {@code max} attempts, fewer than the retry policy allows (a request whose body
   * cannot be sent twice makes one); 1 also turns hedging off.
   *
   * @throws IllegalArgumentException if {@code max} is below 1
   * @throws IllegalStateException if the call already ran
   */
  public Call maxAttempts(int max) {
    requireNotStarted();
    if (max < 1) {
      throw new IllegalArgumentException("max attempts must be at least 1 but was " + max);
    }
    this.maxAttempts = Math.min(max, cluster.retryPolicy().maxAttempts());
    return this;
  }

  @Override
  public boolean isExcluded(Endpoint endpoint) {
    for (Endpoint e : tried) {
      if (e == endpoint) {
        return true;
      }
    }
    return false;
  }

  @Override
  public int excludedCount() {
    return tried.length;
  }

  /** Records that {@code endpoint} was tried, so later picks avoid it while another exists. */
  synchronized void exclude(Endpoint endpoint) {
    if (!isExcluded(endpoint)) {
      Endpoint[] t = Arrays.copyOf(tried, tried.length + 1);
      t[t.length - 1] = endpoint;
      tried = t;
    }
  }

  private void requireNotStarted() {
    if (started) {
      throw new IllegalStateException("a Call runs once; make another with Cluster.newCall");
    }
  }

  private boolean hedged() {
    return hedging != null && ctx.isIdempotent() && maxAttempts > 1;
  }

  private void begin() {
    requireNotStarted();
    started = true;
    cluster.depositCall();
    if (hedged()) {
      hedging.deposit();
    }
  }

  // ---- blocking ------------------------------------------------------------------------------

  /**
   * Runs the call on this thread: acquires an endpoint, runs {@code attempt}, and retries on
   * another endpoint while the retry policy allows (waiting out the backoff here). Hedges, if any,
   * run on the cluster's hedge threads. Every attempt's lease is finished once.
   *
   * <p>When no retry is allowed, the last attempt's result is returned or its exception thrown; if
   * no endpoint can be acquired for a retry, the acquisition failure is added to it as suppressed.
   *
   * @throws X the last attempt's exception
   * @throws NoHealthyEndpointException if no endpoint could be acquired for the first attempt
   * @throws DeadlineExceededException if the deadline passed before the first attempt
   * @throws RateLimitedException if the cluster's rate limit refused the call
   */
  public <T, X extends Exception> T run(Attempt<T, X> attempt) throws X {
    begin();
    boolean hedged = hedged();
    Lease lease = cluster.acquire(this, attemptDeadline(1), hedged);
    for (int n = 1; ; n++) {
      T result = null;
      Exception error = null;
      Outcome outcome;
      try {
        if (hedged) {
          Race<T, X> race = new Race<>(this, attempt, lease, hedging);
          try {
            result = race.run();
          } catch (Exception e) {
            error = e;
          }
          outcome = race.outcome;
        } else {
          try {
            result = attempt.run(lease);
            outcome = Attempts.finishReturned(lease);
          } catch (Exception e) {
            error = e;
            outcome = Attempts.finishThrown(lease, e, attempt::classify, true);
          }
        }
      } catch (Error e) {
        lease.close();
        throw e;
      }
      long delay = retryDelay(outcome, n);
      if (delay < 0) {
        return Attempts.deliver(result, error);
      }
      exclude(lease.endpoint());
      if (delay > 0) {
        LockSupport.parkNanos(delay);
        if (Thread.currentThread().isInterrupted()) {
          return Attempts.deliver(result, error);
        }
      }
      Lease next;
      try {
        next = cluster.acquire(this, attemptDeadline(n + 1), hedged);
      } catch (RuntimeException none) {
        if (error != null) {
          error.addSuppressed(none);
        }
        return Attempts.deliver(result, error);
      }
      if (error == null) {
        attempt.discard(result);
      }
      lease = next;
    }
  }

  // ---- asynchronous --------------------------------------------------------------------------

  /**
   * Runs the call without blocking: attempts start on the calling thread or the thread that
   * completed the previous one, backoffs wait on the cluster's scheduler, and before the registry's
   * first answer the call waits for it without a thread. Cancelling (or otherwise completing) the
   * returned future abandons the attempts in flight through their leases' cancel hooks, finishes
   * their leases as {@link Outcome#CANCELLED}, and stops retries.
   *
   * @return a future completed with the last attempt's result, or failed with its exception (or
   *     with {@link NoHealthyEndpointException}, {@link DeadlineExceededException}, {@link
   *     RateLimitedException} when no attempt could start)
   */
  public <T> CompletableFuture<T> runAsync(AsyncAttempt<T> attempt) {
    begin();
    AsyncRun<T> run = new AsyncRun<>(this, attempt);
    run.start();
    return run.result;
  }

  // ---- shared --------------------------------------------------------------------------------

  /**
   * The deadline of attempt {@code n}: the call's, or half the time left for an idempotent attempt
   * that may still be retried on an endpoint it has not tried.
   */
  long attemptDeadline(int n) {
    long deadline = ctx.deadlineNanos();
    if (!ctx.hasDeadline()
        || !ctx.isIdempotent()
        || n >= maxAttempts
        || cluster.candidateCount() <= tried.length + 1) {
      return deadline; // the last attempt, or nowhere else to go: it may use all the time left
    }
    long now = cluster.ticker().read();
    long left = deadline - now;
    return left <= 0 ? deadline : now + left / 2;
  }

  /**
   * The backoff before the next attempt after attempt {@code attemptsMade} ended with {@code
   * outcome}, or -1 if no retry is allowed.
   */
  long retryDelay(Outcome outcome, int attemptsMade) {
    RetryPolicy retry = cluster.retryPolicy();
    if (!outcome.isRetryable(ctx.isIdempotent()) || attemptsMade >= maxAttempts) {
      return -1;
    }
    long delay = retry.backoffNanos(attemptsMade, ThreadLocalRandom.current().nextDouble());
    if (ctx.hasDeadline() && cluster.ticker().read() + delay - ctx.deadlineNanos() >= 0) {
      return -1;
    }
    // A connect failure sent nothing, so retrying it adds no load to any server: like gRPC's
    // transparent retries it is bounded by maxAttempts only, not by the retry budget.
    if (outcome != Outcome.CONNECT_FAILURE && !cluster.withdrawRetry()) {
      logger.debug(
          "Service '{}': retry budget spent; not retrying a {} call", cluster.service(), outcome);
      return -1;
    }
    return delay;
  }

  /**
   * The failure a {@link #runAsync} future carries, without the {@link CompletionException} or
   * {@link ExecutionException} wrappers futures add.
   */
  public static Throwable unwrapFailure(Throwable error) {
    return Attempts.unwrap(error);
  }

  Cluster cluster() {
    return cluster;
  }

  @Nullable Hedging hedging() {
    return hedged() ? hedging : null;
  }

  @Override
  public String toString() {
    return "Call{" + cluster.service() + ", " + ctx + ", tried=" + tried.length + "}";
  }

  /**
   * One attempt of a call on the endpoint a {@link Lease} holds, run by {@link Call#run}. An
   * attempt may finish the lease itself (to report an outcome or latency it knows better, such as
   * an HTTP 503 it returns as its result); if it does not, the engine finishes it with {@link
   * Outcome#SUCCESS} when the attempt returns, or with {@link #classify} when it throws.
   *
   * @param <T> the call's result
   * @param <X> the checked exception the call may throw
   */
  @FunctionalInterface
  public interface Attempt<T, X extends Exception> {
    /**
     * Makes the call on {@code lease}'s endpoint, bounded by {@link Lease#attemptDeadlineNanos}.
     */
    T run(Lease lease) throws X;

    /**
     * How an attempt that threw {@code error} ended for its endpoint. Interruption is classified by
     * the engine ({@link Outcome#CANCELLED}) before this is asked. By default every exception is a
     * {@link Outcome#TRANSPORT_FAILURE} (retried only for idempotent calls).
     */
    default Outcome classify(Throwable error) {
      return Outcome.TRANSPORT_FAILURE;
    }

    /**
     * Releases a result the engine will not return (a failed answer that was retried, or a hedge's
     * answer that came second): an HTTP response body to close, say. Does nothing by default.
     */
    default void discard(T result) {}
  }

  /**
   * One non-blocking attempt of a call on the endpoint a {@link Lease} holds, run by {@link
   * Call#runAsync}. The same contract as {@link Attempt}, with the result delivered by a future:
   * the attempt may finish the lease itself before completing the future; otherwise the engine
   * finishes it from how the future completed. Register {@link Lease#onCancel} to abort the I/O
   * when the engine abandons the attempt.
   *
   * @param <T> the call's result
   */
  @FunctionalInterface
  public interface AsyncAttempt<T> {
    /** Starts the call on {@code lease}'s endpoint; must not block. */
    CompletableFuture<T> start(Lease lease);

    /** As {@link Attempt#classify}. */
    default Outcome classify(Throwable error) {
      return Outcome.TRANSPORT_FAILURE;
    }

    /** As {@link Attempt#discard}. */
    default void discard(T result) {}
  }

  /**
   * When and how often a call may be hedged: a second attempt on another endpoint after {@link
   * #delayNanos} without an answer (Finagle's backup requests, gRPC's hedging policy), within a
   * budget of {@code maxExtraPercent}% of the calls plus a small burst.
   *
   * <p>The budget is a token bucket in thousandths of a hedge: each call deposits {@code 10 ×
   * maxExtraPercent}, each hedge withdraws 1,000, and the balance is capped at {@value #BURST}
   * hedges (configurable with {@link #of(Duration, int, int)}), so a sudden slowdown of every
   * endpoint adds at most that percentage of load once the burst is spent. Share one per client
   * (its budget covers that client's calls); pass it to {@link Call#hedge}. Only idempotent calls
   * are hedged. Thread-safe.
   */
  public static final class Hedging {
    /** Hedges the budget allows in a burst. */
    public static final int BURST = 10;

    private static final long HEDGE = 1_000;

    private final long delayNanos;
    private final @Nullable LatencyWindow window;
    private final long deposit;
    private final long cap;
    private final AtomicLong balance;
    private final LongAdder sent = new LongAdder();
    private final LongAdder won = new LongAdder();

    /**
     * Hedges a call that has not answered after {@code delay}, within {@code maxExtraPercent}%
     * extra attempts (plus a burst of {@value #BURST}).
     *
     * @throws IllegalArgumentException if {@code delay} is not positive or {@code maxExtraPercent}
     *     is not between 1 and 100
     */
    public static Hedging of(Duration delay, int maxExtraPercent) {
      return of(delay, maxExtraPercent, BURST);
    }

    /**
     * As {@link #of(Duration, int)}, with a burst of {@code burst} hedges instead of {@value
     * #BURST}: the hedges allowed at once before the percentage applies (0: none beyond it).
     *
     * @throws IllegalArgumentException also if {@code burst} is negative or above 10,000
     */
    public static Hedging of(Duration delay, int maxExtraPercent, int burst) {
      if (delay.isNegative() || delay.isZero()) {
        throw new IllegalArgumentException("hedge delay must be positive but was " + delay);
      }
      return new Hedging(delay.toNanos(), null, maxExtraPercent, burst);
    }

    /**
     * Hedges a call that has not answered after a latency percentile of this client's recent calls
     * (at least 1 ms), within {@code maxExtraPercent}% extra attempts plus a burst of {@value
     * #BURST} — Finagle's backup requests. The percentile spends half the budget on slow calls and
     * keeps the rest for bursts (a server that stops answering): 2% hedges after the p99, 20% after
     * the p90 (at most the p99.9, at least the median). Hedges start once 200 calls were seen.
     *
     * @throws IllegalArgumentException if {@code maxExtraPercent} is not between 1 and 100
     */
    public static Hedging adaptive(int maxExtraPercent) {
      double q = Math.min(0.999, Math.max(0.5, 1 - maxExtraPercent / 200.0));
      return new Hedging(LatencyWindow.NONE, new LatencyWindow(q), maxExtraPercent, BURST);
    }

    private Hedging(
        long delayNanos, @Nullable LatencyWindow window, int maxExtraPercent, int burst) {
      if (maxExtraPercent < 1 || maxExtraPercent > 100) {
        throw new IllegalArgumentException(
            "maxExtraPercent must be between 1 and 100 but was " + maxExtraPercent);
      }
      if (burst < 0 || burst > 10_000) {
        throw new IllegalArgumentException(
            "hedge burst must be between 0 and 10000 but was " + burst);
      }
      this.delayNanos = delayNanos;
      this.window = window;
      this.deposit = 10L * maxExtraPercent;
      // Never below one hedge, or the percentage's deposits could never add up to a hedge.
      this.cap = Math.max(1, burst) * HEDGE;
      this.balance = new AtomicLong(burst * HEDGE);
    }

    /** The delay before a hedge now, or {@link Long#MAX_VALUE} if calls are not hedged yet. */
    long delayNanos() {
      LatencyWindow w = window;
      return w == null ? delayNanos : w.delayNanos();
    }

    /** A primary attempt answered after {@code latencyNanos} (or was abandoned after it). */
    void recordLatency(long latencyNanos, long nowNanos) {
      LatencyWindow w = window;
      if (w != null) {
        w.record(latencyNanos, nowNanos);
      }
    }

    /** A hedgeable call started. */
    void deposit() {
      long b;
      do {
        b = balance.get();
        if (b >= cap) {
          return;
        }
      } while (!balance.compareAndSet(b, Math.min(cap, b + deposit)));
    }

    /** How many hedges were sent. */
    public long sent() {
      return sent.sum();
    }

    /** How many hedges answered before the attempt they backed up. */
    public long won() {
      return won.sum();
    }

    void recordSent() {
      sent.increment();
    }

    void recordWon() {
      won.increment();
    }

    @Override
    public String toString() {
      long d = delayNanos();
      return "Hedging{"
          + (window == null ? "after " : "adaptive, now ")
          + (d == LatencyWindow.NONE ? "none yet" : java.time.Duration.ofNanos(d).toString())
          + ", sent "
          + sent()
          + "}";
    }

    /** Takes one hedge from the budget; false when it is spent. */
    boolean tryWithdraw() {
      long b;
      do {
        b = balance.get();
        if (b < HEDGE) {
          return false;
        }
      } while (!balance.compareAndSet(b, b - HEDGE));
      return true;
    }
  }
}
