package dev.switchboard.lb;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

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

  Lease(
      Cluster cluster,
      Endpoint endpoint,
      long startNanos,
      boolean probe,
      CallListener callListener) {
    this.cluster = cluster;
    this.endpoint = endpoint;
    this.startNanos = startNanos;
    this.probe = probe;
    this.callListener = callListener;
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
