package dev.switchboard.lb;

import dev.switchboard.lb.Call.AsyncAttempt;
import dev.switchboard.lb.Call.Hedging;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/*
 * The asynchronous path of the call engine
 * ----------------------------------------
 * The same loop as Call.run, as a chain of futures: acquire, start the attempt, and when its
 * future completes finish its lease and decide (answer, retry after a backoff on the cluster's
 * scheduler, or wait for a hedge still in flight). Completions of the primary and its hedge are
 * handled under this object's lock, so they never interleave; no thread blocks.
 *
 * Exactly once: each attempt's lease is finished by its own completion (with the attempt's
 * outcome, or CANCELLED when the engine abandoned it). When the result completes by any other
 * hand (cancel, completeExceptionally, orTimeout), every attempt in flight is abandoned through
 * its lease's cancel hooks; an attempt that starts after that sees the result done and abandons
 * itself.
 */
final class AsyncRun<T> implements HedgeWatch.Watched {
  final CompletableFuture<T> result = new CompletableFuture<>();
  private final Call call;
  private final Cluster cluster;
  private final AsyncAttempt<T> attempt;
  private final @Nullable Hedging hedging;

  // Guarded by this.
  private int attempts;
  private int inFlight;
  private @Nullable Lease primary;
  private @Nullable Lease hedge;
  private boolean hedgeAllowed;
  private long hedgeDueNanos;
  // The last failed attempt's answer, delivered if no later attempt answers.
  private @Nullable T lastResult;
  private @Nullable Throwable lastError;
  private boolean hasLast;

  AsyncRun(Call call, AsyncAttempt<T> attempt) {
    this.call = call;
    this.cluster = call.cluster();
    this.attempt = attempt;
    this.hedging = call.hedging();
  }

  void start() {
    result.whenComplete((r, e) -> abandonAll());
    next();
  }

  /** Starts the next attempt, once the cluster is ready. */
  private void next() {
    if (result.isDone()) {
      discardLast();
      return;
    }
    if (!cluster.isReady()) {
      // Start-up: wait for the registry's first answer without blocking this thread, never past
      // the deadline (acquire then fails the call).
      CompletableFuture<Void> ready = cluster.whenReady().toCompletableFuture();
      long deadline = call.context().deadlineNanos();
      if (deadline != Long.MAX_VALUE) {
        ready.completeOnTimeout(null, deadline - cluster.ticker().read(), TimeUnit.NANOSECONDS);
      }
      ready.thenRunAsync(this::startAttempt);
      return;
    }
    startAttempt();
  }

  private void startAttempt() {
    Lease lease;
    int n;
    boolean watch;
    synchronized (this) {
      if (result.isDone()) {
        discardLast();
        return;
      }
      n = attempts + 1;
      try {
        lease = cluster.acquire(call, call.attemptDeadline(n), true);
      } catch (RuntimeException none) {
        deliverLast(none);
        return;
      }
      attempts = n;
      inFlight++;
      primary = lease;
      discardLast();
      long delay = hedging == null ? LatencyWindow.NONE : hedging.delayNanos();
      hedgeAllowed = delay != LatencyWindow.NONE; // adaptive: none until enough calls were seen
      if (hedgeAllowed) {
        hedgeDueNanos = cluster.ticker().read() + delay;
      }
      watch = hedgeAllowed;
    }
    if (watch) {
      cluster.watchForHedge(this);
    }
    launch(lease, false);
  }

  private void launch(Lease lease, boolean isHedge) {
    if (result.isDone()) {
      lease.cancel();
    }
    CompletableFuture<T> f;
    try {
      f = attempt.start(lease);
    } catch (RuntimeException e) {
      f = CompletableFuture.failedFuture(e);
    }
    f.whenComplete((r, e) -> completed(lease, isHedge, r, e));
  }

  private void completed(Lease lease, boolean isHedge, @Nullable T r, @Nullable Throwable e) {
    Outcome outcome;
    try {
      outcome =
          e == null
              ? Attempts.finishReturned(lease)
              : Attempts.finishThrown(lease, e, attempt::classify, false);
    } catch (RuntimeException | Error failure) {
      if (!lease.isCompleted()) {
        lease.close();
      }
      result.completeExceptionally(failure);
      return;
    }
    if (!isHedge && hedging != null && !outcome.isEndpointFailure()) {
      // An answer, or abandoned (its hedge answered first) after waiting this long.
      long now = cluster.ticker().read();
      hedging.recordLatency(now - lease.startNanos(), now);
    }
    long delay;
    synchronized (this) {
      inFlight--;
      if (isHedge) {
        hedge = null;
      } else if (primary == lease) {
        primary = null;
      }
      if (result.isDone()) {
        discard(r, e);
        return;
      }
      if (!outcome.isEndpointFailure()) {
        // An answer (or cancelled by the caller): it is the call's; abandon the other attempt.
        Lease other = isHedge ? primary : hedge;
        if (isHedge && outcome != Outcome.CANCELLED && hedging != null) {
          hedging.recordWon();
        }
        discardLast();
        deliver(r, e == null ? null : Attempts.unwrap(e));
        if (other != null) {
          other.cancel();
        }
        return;
      }
      call.exclude(lease.endpoint());
      remember(r, e);
      if (inFlight > 0) {
        return; // the other attempt may still answer
      }
      delay = call.retryDelay(outcome, attempts);
      if (delay < 0) {
        deliverLast(null);
        return;
      }
      hedgeAllowed = false;
    }
    if (delay == 0) {
      next();
    } else {
      cluster.scheduler().schedule(this::next, delay);
    }
  }

  // ---- hedging -------------------------------------------------------------------------------

  @Override
  public synchronized long dueNanos() {
    return hedgeDueNanos;
  }

  @Override
  public synchronized boolean isSettled() {
    return !hedgeAllowed || result.isDone() || primary == null;
  }

  @Override
  public void fire() {
    cluster.runHedge(this::startHedge);
  }

  private void startHedge() {
    Lease primaryLease;
    synchronized (this) {
      if (!hedgeAllowed || result.isDone() || primary == null || hedge != null) {
        return;
      }
      hedgeAllowed = false;
      primaryLease = primary;
    }
    if (!hedging.tryWithdraw()) {
      return;
    }
    call.exclude(primaryLease.endpoint());
    Lease lease;
    try {
      // Bounded like any attempt that may still be retried elsewhere (Call.attemptDeadline): a
      // hedge that lands on a host that stopped answering too (the rest of a lost zone) must not
      // hold the call until its deadline once the primary gave up; the call then retries.
      lease = cluster.acquire(call, call.attemptDeadline(2), true);
    } catch (RuntimeException none) {
      return;
    }
    synchronized (this) {
      if (lease.endpoint() == primaryLease.endpoint() || result.isDone() || primary == null) {
        lease.close(); // no other endpoint, or the call ended meanwhile
        return;
      }
      call.exclude(lease.endpoint());
      attempts++;
      inFlight++;
      hedge = lease;
    }
    hedging.recordSent();
    launch(lease, true);
  }

  // ---- results -------------------------------------------------------------------------------

  private void abandonAll() {
    Lease p;
    Lease h;
    synchronized (this) {
      p = primary;
      h = hedge;
    }
    if (p != null) {
      p.cancel();
    }
    if (h != null) {
      h.cancel();
    }
  }

  private void deliver(@Nullable T r, @Nullable Throwable e) {
    boolean delivered = e == null ? result.complete(r) : result.completeExceptionally(e);
    if (!delivered) {
      discard(r, e);
    }
  }

  /** Holds {@code lease}'s failed answer until a later attempt replaces it. Guarded by this. */
  private void remember(@Nullable T r, @Nullable Throwable e) {
    discardLast();
    lastResult = r;
    lastError = e;
    hasLast = true;
  }

  private void deliverLast(@Nullable Throwable acquireFailure) {
    if (!hasLast) {
      result.completeExceptionally(
          acquireFailure != null ? acquireFailure : new IllegalStateException("no attempt ran"));
      return;
    }
    T r = lastResult;
    Throwable e = lastError;
    hasLast = false;
    lastResult = null;
    lastError = null;
    if (e != null && acquireFailure != null) {
      e.addSuppressed(acquireFailure);
    }
    deliver(r, e == null ? null : Attempts.unwrap(e));
  }

  private void discardLast() {
    if (hasLast) {
      discard(lastResult, lastError);
      hasLast = false;
      lastResult = null;
      lastError = null;
    }
  }

  private void discard(@Nullable T r, @Nullable Throwable e) {
    if (e == null && r != null) {
      attempt.discard(r);
    }
  }
}
