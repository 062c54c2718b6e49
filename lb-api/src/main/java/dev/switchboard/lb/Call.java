package dev.switchboard.lb;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
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
 * as answered, slowly (its endpoint is charged the time it took). The blocking path runs the
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
          Race<T> race = new Race<>(lease);
          try {
            result = runHedged(attempt, race);
          } catch (Exception e) {
            error = e;
          }
          outcome = race.outcome;
        } else {
          try {
            result = attempt.run(lease);
            outcome = finishReturned(lease);
          } catch (Exception e) {
            error = e;
            outcome = finishThrown(lease, e, attempt::classify, true);
          }
        }
      } catch (Error e) {
        lease.close();
        throw e;
      }
      long delay = retryDelay(outcome, n);
      if (delay < 0) {
        return deliver(result, error);
      }
      exclude(lease.endpoint());
      if (delay > 0) {
        LockSupport.parkNanos(delay);
        if (Thread.currentThread().isInterrupted()) {
          return deliver(result, error);
        }
      }
      Lease next;
      try {
        next = cluster.acquire(this, attemptDeadline(n + 1), hedged);
      } catch (RuntimeException none) {
        if (error != null) {
          error.addSuppressed(none);
        }
        return deliver(result, error);
      }
      if (error == null) {
        attempt.discard(result);
      }
      lease = next;
    }
  }

  @SuppressWarnings("unchecked") // an attempt throws only X or unchecked exceptions
  private static <T, X extends Exception> T deliver(@Nullable T result, @Nullable Exception error)
      throws X {
    if (error != null) {
      throw (X) error;
    }
    return result;
  }

  /** The primary attempt on this thread, raced by a hedge; sets {@code race.outcome}. */
  private <T, X extends Exception> T runHedged(Attempt<T, X> attempt, Race<T> race) throws X {
    Lease primary = race.primary;
    race.dueNanos = cluster.ticker().read() + hedging.delayNanos;
    race.onDue = () -> cluster.runHedge(() -> runHedge(attempt, race));
    cluster.watchForHedge(race);
    T result = null;
    Exception error = null;
    try {
      result = attempt.run(primary);
    } catch (Exception e) {
      error = e;
    }
    if (race.state() == Race.HEDGE_WON) {
      return hedgeWon(attempt, race, result, error);
    }
    Outcome outcome =
        error == null
            ? finishReturned(primary)
            : finishThrown(primary, error, attempt::classify, true);
    race.outcome = outcome;
    if (!outcome.isEndpointFailure()) {
      // An answer (or cancelled): it stands unless the hedge won at the same moment.
      return race.primaryAnswered()
          ? deliver(result, error)
          : hedgeWon(attempt, race, result, error);
    }
    int state = race.primaryFailed();
    if (state == Race.PENDING) {
      return deliver(result, error); // no hedge was sent: the retry loop decides
    }
    if (state == Race.HEDGE_WON) {
      return hedgeWon(attempt, race, result, error);
    }
    // This attempt failed while a hedge is out: the hedge's answer, if it brings one, wins.
    try {
      T hedged = race.awaitHedge(ctx.deadlineNanos() - cluster.ticker().read());
      race.outcome = race.hedgeOutcome;
      if (error == null) {
        attempt.discard(result);
      }
      return hedged;
    } catch (Exception hedgeFailure) {
      if (error != null) {
        error.addSuppressed(hedgeFailure);
      }
      return deliver(result, error);
    }
  }

  /**
   * The hedge answered first and abandoned the primary: the primary's endpoint is charged the time
   * it took, and the hedge's answer is the call's.
   */
  private <T, X extends Exception> T hedgeWon(
      Attempt<T, X> attempt, Race<T> race, @Nullable T result, @Nullable Exception error) throws X {
    if (!race.primary.isCompleted()) {
      race.primary.complete(Outcome.SUCCESS);
    }
    race.outcome = race.hedgeOutcome;
    if (error == null) {
      attempt.discard(result);
    }
    try {
      return race.hedgeAnswer();
    } catch (Exception answer) {
      return deliver(null, answer);
    }
  }

  /** Runs on a hedge thread when the primary has not answered in time. */
  private <T, X extends Exception> void runHedge(Attempt<T, X> attempt, Race<T> race) {
    if (!race.tryStartHedge()) {
      return;
    }
    if (!hedging.tryWithdraw()) {
      race.hedgeFailed(new IllegalStateException("hedge budget spent"));
      return;
    }
    Endpoint primaryEndpoint = race.primary.endpoint();
    exclude(primaryEndpoint);
    Lease lease;
    try {
      lease = cluster.acquire(this, ctx.deadlineNanos(), true);
    } catch (RuntimeException none) {
      race.hedgeFailed(none);
      return;
    }
    if (lease.endpoint() == primaryEndpoint) {
      lease.close(); // no other endpoint: a hedge would only add load
      race.hedgeFailed(new IllegalStateException("no other endpoint to hedge on"));
      return;
    }
    exclude(lease.endpoint());
    hedging.recordSent();
    if (!race.hedgeStarted(lease)) {
      lease.cancel(); // the primary answered meanwhile
    }
    T result = null;
    Exception error = null;
    Outcome outcome;
    try {
      result = attempt.run(lease);
      outcome = finishReturned(lease);
    } catch (Exception e) {
      error = e;
      outcome = finishThrown(lease, e, attempt::classify, false);
    } catch (Error e) {
      lease.close();
      race.hedgeFailed(e);
      return;
    }
    if (outcome.isEndpointFailure() || outcome == Outcome.CANCELLED) {
      if (error == null) {
        attempt.discard(result);
      }
      race.hedgeFailed(error != null ? error : new IllegalStateException("hedge ended " + outcome));
      return;
    }
    if (race.hedgeAnswered(result, error, outcome)) {
      hedging.recordWon();
    } else if (error == null) {
      attempt.discard(result);
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

  /** Finishes the lease of an attempt that returned; returns its outcome. */
  static Outcome finishReturned(Lease lease) {
    if (lease.isDetached()) {
      return Outcome.SUCCESS;
    }
    if (!lease.isCompleted()) {
      lease.complete(Outcome.SUCCESS);
    }
    return lease.outcome();
  }

  /** Finishes the lease of an attempt that threw {@code error}; returns its outcome. */
  static Outcome finishThrown(
      Lease lease,
      Throwable error,
      Function<Throwable, Outcome> classifier,
      boolean onCallersThread) {
    if (lease.isCompleted()) {
      return lease.outcome();
    }
    Throwable t = unwrap(error);
    if (lease.isCancelled()
        || Outcome.isInterruption(t)
        || (onCallersThread && Thread.currentThread().isInterrupted())) {
      lease.close(); // CANCELLED: the caller's doing, nothing learned about the endpoint
      return Outcome.CANCELLED;
    }
    Outcome outcome = classifier.apply(t);
    if (outcome == Outcome.CANCELLED) {
      lease.close();
    } else {
      lease.complete(outcome);
    }
    return outcome;
  }

  /**
   * The failure a {@link #runAsync} future carries, without the {@link CompletionException} or
   * {@link ExecutionException} wrappers futures add.
   */
  public static Throwable unwrapFailure(Throwable error) {
    return unwrap(error);
  }

  /** Strips the wrappers futures add. */
  static Throwable unwrap(Throwable error) {
    Throwable t = error;
    while ((t instanceof CompletionException || t instanceof ExecutionException)
        && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
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
}
