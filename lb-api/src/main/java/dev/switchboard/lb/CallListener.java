package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;

/**
 * Hears about every call a cluster balances, on the caller's thread: the pick when a lease is
 * acquired, and the outcome when it is finished. For metrics and tracing; the cluster's own
 * decisions never depend on it.
 *
 * <p>A cluster calls its call listeners only if it has any: with none, acquiring and finishing a
 * lease costs one reference comparison more (OkHttp's {@code EventListener.NONE}, Finagle's {@code
 * NullStatsReceiver}). A {@link ClusterListener} added with {@link Cluster.Builder#listener} or
 * {@link Cluster#addListener} that also implements this interface hears calls too; a lease reports
 * to the listeners the cluster had when it was acquired.
 *
 * <p>Implementations must be thread-safe and fast: no locks, no blocking, no allocation unless
 * sampled, and never throw (a throw is logged and ignored). All methods default to doing nothing.
 */
public interface CallListener {
  /** A listener that does nothing; the cluster skips calling it. */
  CallListener NONE = new CallListener() {};

  /**
   * {@code lease} was acquired: the cluster's policy picked its endpoint from {@code candidates}
   * (after eligibility and zone filtering, before exclusions of earlier attempts) and raised its
   * in-flight count.
   */
  default void callStarted(Lease lease, Candidates candidates) {}

  /**
   * {@code lease} was finished. {@code latencyNanos} is the latency the lease recorded; for {@link
   * Outcome#CANCELLED} (a lease closed without an outcome) it is the time since acquisition. Called
   * before the endpoint's in-flight count is lowered, so the endpoint has not left the cluster.
   */
  default void callFinished(Lease lease, Outcome outcome, long latencyNanos) {}
}
