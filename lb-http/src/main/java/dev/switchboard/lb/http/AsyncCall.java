package dev.switchboard.lb.http;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Lease;
import java.net.http.HttpResponse;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/*
 * The asynchronous retry loop
 * ---------------------------
 * Cluster.execute blocks between attempts, so the asynchronous path runs the same loop as a chain
 * of futures: acquire a lease, run the interceptor chain over HttpClient.sendAsync, and when the
 * attempt completes finish its lease, ask Cluster.retryDelayNanos whether a wanted retry is
 * allowed, and schedule the next attempt on CompletableFuture.delayedExecutor (no thread waits
 * out the backoff). No lock is held and no thread blocks.
 *
 * Exactly once. Each attempt's lease is finished by whoever flips its Attempt.finished flag
 * first: the attempt's completion (with the classified outcome) or the caller's cancellation
 * (with CANCELLED, through Lease.close). The result future is completed only after the lease is
 * finished, so a caller who sees the response also sees the endpoint's in-flight count lowered.
 *
 * Cancellation. When the result completes by any other hand (cancel, completeExceptionally,
 * orTimeout), the current attempt is aborted: its lease is closed and the HttpClient's own future
 * cancelled, which since JDK 16 aborts the exchange. An attempt that starts after that (a
 * scheduled retry, or one racing with the cancel) sees the result done and releases its lease at
 * once: it publishes itself in `current` before it checks the result, and the abort reads
 * `current` after the result completed, so one of the two always sees the other.
 */

/** One {@link LoadBalancedHttpClient#sendAsync} call. Thread-safe as described above. */
final class AsyncCall<T> {
  private final HttpCall<T> call;
  private final CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
  private volatile @Nullable Attempt current;

  private AsyncCall(HttpCall<T> call) {
    this.call = call;
  }

  static <T> CompletableFuture<HttpResponse<T>> start(HttpCall<T> call) {
    AsyncCall<T> async = new AsyncCall<>(call);
    async.result.whenComplete((response, error) -> async.abortCurrent());
    async.attempt();
    return async.result;
  }

  /** One attempt's lease and the HttpClient future carrying it. */
  private static final class Attempt {
    final Lease lease;
    final AtomicBoolean finished = new AtomicBoolean();
    volatile @Nullable CompletableFuture<?> wire;

    Attempt(Lease lease) {
      this.lease = lease;
    }

    /** Finishes the lease as cancelled unless the attempt already finished. */
    void abort() {
      if (finished.compareAndSet(false, true)) {
        lease.close();
        CompletableFuture<?> w = wire;
        if (w != null) {
          w.cancel(true);
        }
      }
    }
  }

  private void abortCurrent() {
    Attempt a = current;
    if (a != null) {
      a.abort();
    }
  }

  private void attempt() {
    if (result.isDone()) {
      discardRetried(); // cancelled during the backoff
      return;
    }
    Cluster cluster = call.cluster();
    if (!cluster.isReady()) {
      // Start-up: the registry has not answered yet. Wait for it here, not in acquire, which would
      // block this thread; never past the call's deadline (acquire then fails it).
      CompletableFuture<Void> ready = cluster.whenReady().toCompletableFuture();
      long deadline = call.ctx.deadlineNanos();
      if (deadline != Long.MAX_VALUE) {
        ready.completeOnTimeout(null, deadline - cluster.ticker().read(), TimeUnit.NANOSECONDS);
      }
      ready.thenRunAsync(this::attemptNow);
      return;
    }
    attemptNow();
  }

  private void attemptNow() {
    if (result.isDone()) {
      discardRetried(); // cancelled while waiting for the registry
      return;
    }
    Lease lease;
    try {
      lease = call.cluster().acquire(call.ctx);
    } catch (RuntimeException noEndpoint) {
      Verdict<T> previous = call.retried();
      if (previous == null) {
        result.completeExceptionally(noEndpoint);
      } else {
        deliver(previous, noEndpoint);
      }
      return;
    }
    Attempt a = new Attempt(lease);
    current = a;
    if (result.isDone()) {
      a.abort();
      discardRetried();
      return;
    }
    try {
      int n = call.nextAttempt();
      call.run(lease, n, request -> send(a, request))
          .whenComplete((response, error) -> completed(a, n, response, error));
    } catch (RuntimeException | Error e) {
      if (a.finished.compareAndSet(false, true)) {
        lease.close();
      }
      result.completeExceptionally(e);
    }
  }

  @SuppressWarnings("unchecked")
  private CompletableFuture<HttpResponse<?>> send(Attempt a, java.net.http.HttpRequest request) {
    CompletableFuture<HttpResponse<T>> wire = call.client.http.sendAsync(request, call.handler);
    a.wire = wire;
    if (a.finished.get()) {
      wire.cancel(true); // aborted while the chain ran
    }
    return (CompletableFuture<HttpResponse<?>>) (CompletableFuture<?>) wire;
  }

  private void completed(
      Attempt a, int n, @Nullable HttpResponse<?> response, @Nullable Throwable error) {
    if (!a.finished.compareAndSet(false, true)) {
      return; // aborted: the lease was closed as cancelled and the result is already complete
    }
    Verdict<T> verdict;
    try {
      verdict = call.finish(a.lease, response, error);
    } catch (RuntimeException | Error e) {
      if (!a.lease.isCompleted()) {
        a.lease.close();
      }
      result.completeExceptionally(e);
      return;
    }
    if (verdict.retry) {
      OptionalLong delay = call.cluster().retryDelayNanos(call.ctx, a.lease, n);
      if (delay.isPresent()) {
        call.retrying(verdict);
        long nanos = delay.getAsLong();
        if (nanos <= 0) {
          attempt();
        } else {
          CompletableFuture.delayedExecutor(nanos, TimeUnit.NANOSECONDS).execute(this::attempt);
        }
        return;
      }
    }
    deliver(verdict);
  }

  private void deliver(Verdict<T> verdict, Throwable... suppressed) {
    HttpResponse<T> response = verdict.response();
    if (response != null) {
      if (!result.complete(response)) {
        verdict.discard(); // the caller cancelled meanwhile: nobody will read the body
      }
    } else {
      result.completeExceptionally(verdict.error(suppressed));
    }
  }

  private void discardRetried() {
    Verdict<T> previous = call.retried();
    if (previous != null) {
      previous.discard();
    }
  }
}
