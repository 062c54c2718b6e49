package dev.switchboard.lb;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * A blocking attempt's race with its hedge. States: {@link #PENDING} (no hedge), {@link #HEDGING}
 * (hedge sent), {@link #DONE} (the primary answered first, or failed before a hedge), {@link
 * #HEDGE_WON}. Thread-safe.
 */
final class Race<T> implements HedgeWatch.Watched {
  static final int PENDING = 0;
  static final int HEDGING = 1;
  static final int DONE = 2;
  static final int HEDGE_WON = 3;

  /** A hedge's answer: a result, or an exception that is the server's answer. */
  private record Answer(@Nullable Object result, @Nullable Exception error) {}

  final Lease primary;
  long dueNanos;
  Runnable onDue = () -> {};

  /** How the race's attempt ended for the engine; written by the caller's thread. */
  Outcome outcome = Outcome.CANCELLED;

  volatile Outcome hedgeOutcome = Outcome.SUCCESS;
  private volatile @Nullable Lease hedgeLease;
  private final AtomicInteger state = new AtomicInteger(PENDING);
  private final CompletableFuture<Answer> hedge = new CompletableFuture<>();

  Race(Lease primary) {
    this.primary = primary;
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
    onDue.run();
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
}
