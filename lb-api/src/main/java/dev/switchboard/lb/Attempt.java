package dev.switchboard.lb;

/**
 * One attempt of a call on the endpoint a {@link Lease} holds; run by {@link Cluster#execute}. An
 * attempt may finish the lease itself (to report a latency or outcome it knows better); if it does
 * not, the cluster finishes it with {@link Outcome#SUCCESS} when the attempt returns, or with the
 * classifier's outcome when it throws.
 *
 * @param <T> the call's result
 * @param <X> the checked exception the call may throw
 */
@FunctionalInterface
public interface Attempt<T, X extends Exception> {
  T run(Lease lease) throws X;
}
