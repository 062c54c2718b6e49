package dev.switchboard.lb;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import org.jspecify.annotations.Nullable;

/**
 * One call's claim on one endpoint, from {@link Cluster#acquire}: the endpoint's in-flight count is
 * raised until the lease is finished. Finish it exactly once, with the call's {@link Outcome}; use
 * try-with-resources so an exception still releases it:
 *
 * <pre>{@code
 * try (Lease lease = cluster.acquire()) {
 *   Reply reply = send(lease.instance(), request);
 *   lease.complete(Outcome.SUCCESS);
 *   return reply;
 * } // closed without an outcome (an exception escaped): released as CANCELLED
 * }</pre>
 *
 * <p>The outcome and latency feed the endpoint's latency average, circuit breaker and outlier
 * detection. Thread-safe: a lease may be finished on another thread than the one that acquired it
 * (asynchronous calls).
 */
public final class Lease implements AutoCloseable {
  private static final VarHandle OUTCOME;

  static {
    try {
      OUTCOME = MethodHandles.lookup().findVarHandle(Lease.class, "outcome", Outcome.class);
    } catch (ReflectiveOperationException e) {
      throw new ExceptionInInitializerError(e);
    }
  }

  private final Cluster cluster;
  private final Endpoint endpoint;
  private final long startNanos;
  private final boolean probe;
  private final CallListener callListener;
  private volatile Outcome outcome;
  private final long attemptDeadlineNanos;
  private volatile boolean detached;
  private final boolean cancellable;
  // Cancellation: null, or the hooks to run; CANCELLED once cancel() ran. Guarded by this.
  private @Nullable Object onCancel;
  private boolean cancelled;

  Lease(
      Cluster cluster,
      Endpoint endpoint,
      long startNanos,
      boolean probe,
      CallListener callListener,
      long attemptDeadlineNanos,
      boolean cancellable) {
    this.cluster = cluster;
    this.endpoint = endpoint;
    this.startNanos = startNanos;
    this.probe = probe;
    this.callListener = callListener;
    this.attemptDeadlineNanos = attemptDeadlineNanos;
    this.cancellable = cancellable;
  }

  /**
   * When this attempt must have ended, as a ticker reading ({@link Long#MAX_VALUE}: no deadline).
   * The call's deadline, or earlier for an idempotent attempt that may still be retried: the call
   * engine leaves it room for another attempt, so an endpoint that stops answering cannot use up
   * the whole deadline. Integrations bound connect, handshake and read by it.
   */
  public long attemptDeadlineNanos() {
    return attemptDeadlineNanos;
  }

  /** The time left until {@link #attemptDeadlineNanos}, at least 1 ms, at most {@code maxNanos}. */
  public long remainingNanos(long maxNanos) {
    long deadline = attemptDeadlineNanos;
    if (deadline == Long.MAX_VALUE) {
      return maxNanos;
    }
    long left = deadline - cluster.ticker().read();
    return Math.max(1_000_000L, Math.min(left, maxNanos));
  }

  /** The endpoint's resource (see {@link Endpoint#resource}). */
  public <R> R resource(Class<R> type) {
    return endpoint.resource(type);
  }

  /**
   * Runs {@code hook} when the call engine abandons this attempt: another attempt of the call
   * answered first (hedging), or the caller cancelled the call. Use it to abort the attempt's I/O
   * (close its connection, cancel its request). Runs at once if already abandoned; never runs after
   * the lease is finished by its own attempt. Thread-safe.
   */
  public void onCancel(Runnable hook) {
    java.util.Objects.requireNonNull(hook, "hook");
    boolean runNow;
    synchronized (this) {
      runNow = cancelled;
      if (!runNow) {
        if (onCancel == null) {
          onCancel = hook;
        } else if (onCancel instanceof java.util.List<?> list) {
          @SuppressWarnings("unchecked")
          java.util.List<Runnable> hooks = (java.util.List<Runnable>) list;
          hooks.add(hook);
        } else {
          java.util.List<Runnable> hooks = new java.util.ArrayList<>(2);
          hooks.add((Runnable) onCancel);
          hooks.add(hook);
          onCancel = hooks;
        }
      }
    }
    if (runNow) {
      hook.run();
    }
  }

  /**
   * Whether the call engine may abandon this attempt (it is hedged, or asynchronous): an attempt
   * that can abort its I/O registers {@link #onCancel} then. A blocking attempt that is not
   * cancellable is ended by interrupting its thread.
   */
  public boolean isCancellable() {
    return cancellable;
  }

  /** Whether the call engine abandoned this attempt (see {@link #onCancel}). */
  public synchronized boolean isCancelled() {
    return cancelled;
  }

  /** Abandons the attempt: runs its cancel hooks once. */
  void cancel() {
    Object hooks;
    synchronized (this) {
      if (cancelled || outcome != null) {
        return; // finished by its own attempt: nothing left to abandon
      }
      cancelled = true;
      hooks = onCancel;
      onCancel = null;
    }
    if (hooks instanceof Runnable r) {
      runHook(r);
    } else if (hooks instanceof java.util.List<?> list) {
      for (Object r : list) {
        runHook((Runnable) r);
      }
    }
  }

  private void runHook(Runnable r) {
    try {
      r.run();
    } catch (RuntimeException e) {
      org.slf4j.LoggerFactory.getLogger(Lease.class)
          .warn("A cancel hook of a call to {} threw; ignored", endpoint.address(), e);
    }
  }

  /**
   * Keeps this lease open after the attempt returns: the call engine then does not finish it, and
   * whoever holds it must ({@code ThriftCluster.borrowTransport} hands its lease to the transport
   * it returns this way). Also after it throws, once abandoned ({@link #onCancel}): an attempt that
   * lets its abandoned I/O run to its own end detaches, then finishes the lease with that end
   * (lb-http charges an abandoned exchange's own connect failure or timeout so).
   */
  public void detach() {
    detached = true;
  }

  boolean isDetached() {
    return detached;
  }

  /**
   * Keeps this lease's endpoint out of new calls for {@code delay} (an HTTP 503's {@code
   * Retry-After}): it is not picked until then.
   */
  public void backOff(java.time.Duration delay) {
    if (delay.isNegative() || delay.isZero()) {
      return;
    }
    cluster.backOff(endpoint, CallContext.saturatedNanos(delay));
  }

  /** The cluster that granted this lease. */
  Cluster cluster() {
    return cluster;
  }

  /** Whether this call is one of a half-open breaker's probes. */
  boolean isProbe() {
    return probe;
  }

  /** The call listeners the cluster had when this lease was acquired. */
  CallListener callListener() {
    return callListener;
  }

  /** The endpoint this call goes to. */
  public Endpoint endpoint() {
    return endpoint;
  }

  /** The instance this call goes to. */
  public ServiceInstance instance() {
    return endpoint.instance();
  }

  /** The cluster ticker's reading when the lease was acquired. */
  public long startNanos() {
    return startNanos;
  }

  /**
   * Finishes the lease with {@code outcome}, measuring latency from acquisition.
   *
   * @throws IllegalStateException if the lease was already finished
   */
  public void complete(Outcome outcome) {
    long now = cluster.ticker().read();
    finish(outcome, now - startNanos, now);
  }

  /**
   * Finishes the lease with {@code outcome} and a latency measured by the caller (for example the
   * server-reported time, or the time of the last attempt only).
   *
   * @throws IllegalStateException if the lease was already finished
   */
  public void complete(Outcome outcome, long latencyNanos) {
    finish(outcome, Math.max(0, latencyNanos), cluster.ticker().read());
  }

  /** Whether the lease was finished. */
  public boolean isCompleted() {
    return outcome != null;
  }

  /**
   * How the lease was finished.
   *
   * @throws IllegalStateException if it was not finished yet
   */
  public Outcome outcome() {
    Outcome o = outcome;
    if (o == null) {
      throw new IllegalStateException("lease on " + endpoint.address() + " is not finished");
    }
    return o;
  }

  /** Finishes the lease as {@link Outcome#CANCELLED} unless it was already finished. */
  @Override
  public void close() {
    if (outcome == null && OUTCOME.compareAndSet(this, null, Outcome.CANCELLED)) {
      cluster.finish(this, Outcome.CANCELLED, 0, 0);
    }
  }

  private void finish(Outcome outcome, long latencyNanos, long nowNanos) {
    if (outcome == null) {
      throw new NullPointerException("outcome");
    }
    Outcome previous = (Outcome) OUTCOME.compareAndExchange(this, null, outcome);
    if (previous != null) {
      throw new IllegalStateException(
          "lease on " + endpoint.address() + " was already finished as " + previous);
    }
    cluster.finish(this, outcome, latencyNanos, nowNanos);
  }

  @Override
  public String toString() {
    Outcome o = outcome;
    return "Lease{" + endpoint.address() + (o == null ? "" : ", " + o) + "}";
  }
}
