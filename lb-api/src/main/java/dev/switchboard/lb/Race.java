package dev.switchboard.lb;

import dev.switchboard.lb.Call.Attempt;
import dev.switchboard.lb.Call.Hedging;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A blocking attempt's race with its hedge, for {@link Call#run}: the primary runs on the caller's
 * thread, the hedge on a hedge thread when the primary has not answered in time, and the first
 * answer wins (the loser is abandoned through its lease's cancel hooks). States: {@link #PENDING}
 * (no hedge), {@link #HEDGING} (hedge sent), {@link #DONE} (the primary answered first, or failed
 * before a hedge), {@link #HEDGE_WON}. Thread-safe.
 */
final class Race<T, X extends Exception> implements HedgeWatch.Watched {
  static final int PENDING = 0;
  static final int HEDGING = 1;
  static final int DONE = 2;
  static final int HEDGE_WON = 3;

  /** A hedge's answer: a result, or an exception that is the server's answer. */
  private record Answer(@Nullable Object result, @Nullable Exception error) {}

  private final Call call;
  private final Attempt<T, X> attempt;
  private final Hedging hedging;
  final Lease primary;
  private long dueNanos;

  /** How the race's attempt ended for the engine; written by the caller's thread. */
  Outcome outcome = Outcome.CANCELLED;

  volatile Outcome hedgeOutcome = Outcome.SUCCESS;
  private volatile @Nullable Lease hedgeLease;
  private final AtomicInteger state = new AtomicInteger(PENDING);
  private final CompletableFuture<Answer> hedge = new CompletableFuture<>();

  Race(Call call, Attempt<T, X> attempt, Lease primary, Hedging hedging) {
    this.call = call;
    this.attempt = attempt;
    this.primary = primary;
    this.hedging = hedging;
  }

  @Override
  public long dueNanos() {
    return dueNanos;
  }

  @Override
  public boolean isSettled() {
    return state.get() != PENDING;
  }

  @Override
  public void fire() {
    call.cluster().runHedge(this::runHedge);
  }

  int state() {
    return state.get();
  }

  boolean tryStartHedge() {
    return state.compareAndSet(PENDING, HEDGING);
  }

  /** The hedge holds {@code lease}; false if the primary already answered (cancel it). */
  boolean hedgeStarted(Lease lease) {
    hedgeLease = lease;
    return state.get() == HEDGING;
  }

  /**
   * The primary answered (or was cancelled): it wins unless the hedge won first. Abandons a hedge
   * in flight. Returns false if the hedge won.
   */
  boolean primaryAnswered() {
    for (; ; ) {
      int s = state.get();
      if (s == HEDGE_WON) {
        return false;
      }
      if (state.compareAndSet(s, DONE)) {
        Lease h = hedgeLease;
        if (s == HEDGING && h != null) {
          h.cancel();
        }
        return true;
      }
    }
  }

  /** The primary failed; returns {@link #PENDING} if no hedge was or will be sent. */
  int primaryFailed() {
    if (state.compareAndSet(PENDING, DONE)) {
      return PENDING;
    }
    return state.get();
  }

  /** The hedge answered; true if it won (the primary is then abandoned). */
  boolean hedgeAnswered(@Nullable Object result, @Nullable Exception error, Outcome outcome) {
    boolean won = state.compareAndSet(HEDGING, HEDGE_WON);
    if (won) {
      hedgeOutcome = outcome;
      hedge.complete(new Answer(result, error));
      primary.cancel();
    }
    return won;
  }

  void hedgeFailed(Throwable error) {
    hedge.completeExceptionally(error);
  }

  /** The winning hedge's answer. */
  T hedgeAnswer() throws Exception {
    return awaitHedge(Long.MAX_VALUE);
  }

  /** The hedge's answer, waiting at most {@code nanos}; throws its failure. */
  @SuppressWarnings("unchecked")
  T awaitHedge(long nanos) throws Exception {
    Answer a;
    try {
      a = hedge.get(Math.max(0, nanos), TimeUnit.NANOSECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
    if (a.error() != null) {
      throw a.error();
    }
    return (T) a.result();
  }

  /** Runs the primary attempt on this thread, raced by a hedge; sets {@link #outcome}. */
  T run() throws X {
    Cluster cluster = call.cluster();
    long delay = hedging.delayNanos();
    if (delay != LatencyWindow.NONE) { // an adaptive delay has none until it has seen enough calls
      dueNanos = cluster.ticker().read() + delay;
      cluster.watchForHedge(this);
    }
    T result = null;
    Exception error = null;
    try {
      result = attempt.run(primary);
    } catch (Exception e) {
      error = e;
    }
    if (state() == HEDGE_WON) {
      hedging.recordLatency(
          cluster.ticker().read() - primary.startNanos(), cluster.ticker().read());
      return hedgeWon(result, error);
    }
    Outcome outcome =
        error == null
            ? Attempts.finishReturned(primary)
            : Attempts.finishThrown(primary, error, attempt::classify, true);
    this.outcome = outcome; // read by Call.run to decide on a retry
    if (outcome == Outcome.SUCCESS || outcome == Outcome.APPLICATION_ERROR) {
      long now = cluster.ticker().read();
      hedging.recordLatency(now - primary.startNanos(), now);
    }
    if (!outcome.isEndpointFailure()) {
      // An answer (or cancelled): it stands unless the hedge won at the same moment.
      return primaryAnswered() ? Attempts.deliver(result, error) : hedgeWon(result, error);
    }
    int state = primaryFailed();
    if (state == PENDING) {
      return Attempts.deliver(result, error); // no hedge was sent: the retry loop decides
    }
    if (state == HEDGE_WON) {
      return hedgeWon(result, error);
    }
    // This attempt failed while a hedge is out: the hedge's answer, if it brings one, wins.
    try {
      T hedged = awaitHedge(call.context().deadlineNanos() - call.cluster().ticker().read());
      outcome = hedgeOutcome;
      if (error == null) {
        attempt.discard(result);
      }
      return hedged;
    } catch (Exception hedgeFailure) {
      if (error != null) {
        error.addSuppressed(hedgeFailure);
      }
      return Attempts.deliver(result, error);
    }
  }

  /**
   * The hedge answered first and abandoned the primary: the primary's endpoint is charged the time
   * it took (or its own connect failure or timeout, if it ended so), and the hedge's answer is the
   * call's.
   */
  private T hedgeWon(@Nullable T result, @Nullable Exception error) throws X {
    if (!primary.isCompleted() && !primary.isDetached()) { // detached: its attempt finishes it
      Outcome own = error == null ? Outcome.SUCCESS : attempt.classify(Attempts.unwrap(error));
      // A primary that could not connect or timed out failed on its own (see
      // Attempts.isOwnFailure): charge that, not a slow answer, or a black hole never leaves.
      primary.complete(Attempts.isOwnFailure(own) ? own : Outcome.SUCCESS);
    }
    outcome = hedgeOutcome;
    if (error == null) {
      attempt.discard(result);
    }
    try {
      return hedgeAnswer();
    } catch (Exception answer) {
      return Attempts.deliver(null, answer);
    }
  }

  /** Runs on a hedge thread when the primary has not answered in time. */
  private void runHedge() {
    Cluster cluster = call.cluster();
    if (!tryStartHedge()) {
      return;
    }
    if (!hedging.tryWithdraw()) {
      hedgeFailed(new IllegalStateException("hedge budget spent"));
      return;
    }
    Endpoint primaryEndpoint = primary.endpoint();
    call.exclude(primaryEndpoint);
    Lease lease;
    try {
      // Bounded like any attempt that may still be retried elsewhere (Call.attemptDeadline): a
      // hedge that lands on a host that stopped answering too (the rest of a lost zone) must not
      // hold the call until its deadline once the primary gave up; the call then retries.
      lease = cluster.acquire(call, call.attemptDeadline(2), true);
    } catch (RuntimeException none) {
      hedgeFailed(none);
      return;
    }
    if (lease.endpoint() == primaryEndpoint) {
      lease.close(); // no other endpoint: a hedge would only add load
      hedgeFailed(new IllegalStateException("no other endpoint to hedge on"));
      return;
    }
    call.exclude(lease.endpoint());
    hedging.recordSent();
    if (!hedgeStarted(lease)) {
      lease.cancel(); // the primary answered meanwhile
    }
    T result = null;
    Exception error = null;
    Outcome outcome;
    try {
      result = attempt.run(lease);
      outcome = Attempts.finishReturned(lease);
    } catch (Exception e) {
      error = e;
      outcome = Attempts.finishThrown(lease, e, attempt::classify, false);
    } catch (Error e) {
      lease.close();
      hedgeFailed(e);
      return;
    }
    if (outcome.isEndpointFailure() || outcome == Outcome.CANCELLED) {
      if (error == null) {
        attempt.discard(result);
      }
      hedgeFailed(error != null ? error : new IllegalStateException("hedge ended " + outcome));
      return;
    }
    if (hedgeAnswered(result, error, outcome)) {
      hedging.recordWon();
    } else if (error == null) {
      attempt.discard(result);
    }
  }
}
