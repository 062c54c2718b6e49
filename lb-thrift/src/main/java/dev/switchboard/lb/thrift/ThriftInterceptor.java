package dev.switchboard.lb.thrift;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.ServiceInstance;
import java.lang.reflect.Method;

/**
 * Observes, decorates or answers one attempt of a proxy's call, after its endpoint was picked: logs
 * the method, arguments, endpoint, outcome and latency; opens a tracing span; adds an auth token to
 * an argument; answers from a cache or a stub without touching the network. OkHttp's interceptor
 * shape, as lb-http's {@code Interceptor}:
 *
 * <pre>{@code
 * ThriftInterceptor logging =
 *     chain -> {
 *       long start = System.nanoTime();
 *       try {
 *         return chain.proceed(chain.args());
 *       } finally {
 *         log.info("{} on {}: {} µs", chain.method().getName(), chain.endpoint().address(),
 *             (System.nanoTime() - start) / 1_000);
 *       }
 *     };
 * }</pre>
 *
 * <p>Interceptors run in the order added to the builder, once per attempt: a retry or a hedge on
 * another endpoint runs the chain again with that endpoint and the next {@link Chain#attempt()}
 * number. They run on the thread that makes the attempt (the caller's, a hedge thread, or the
 * executor of an asynchronous proxy). To decorate a whole logical call rather than each attempt,
 * wrap the proxy itself.
 *
 * <p>What the endpoint is charged does not depend on interceptors: an attempt that reached the
 * server is judged by how the exchange ended, whatever an interceptor then returns or throws (a
 * timeout is a timeout, and is retried for idempotent methods, even if an interceptor wraps the
 * exception or answers with a fallback value, which is the call's answer if no retry follows); an
 * attempt answered or failed by an interceptor before it reached the server charges nothing and is
 * not retried. Exceptions reach the caller unchanged: throw unchecked exceptions or {@code
 * TException}s (the generated interface declares only those; the JDK's proxy wraps anything else in
 * {@code UndeclaredThrowableException}).
 *
 * <p>Implementations must be thread-safe.
 */
@FunctionalInterface
public interface ThriftInterceptor {

  /**
   * Handles one attempt; usually returns {@code chain.proceed(chain.args())}, or the result of
   * proceeding with amended arguments. A short-circuit returns a value of the method's return type
   * (boxed; null for {@code void}) without proceeding.
   */
  Object intercept(Chain chain) throws Exception;

  /**
   * One attempt as an interceptor sees it. Not thread-safe: use it from the interceptor that
   * received it.
   */
  interface Chain {

    /** The method of the blocking interface ({@code Echo.Iface.echo}), also for async proxies. */
    Method method();

    /** A copy of the arguments this link received. */
    Object[] args();

    /** The service the proxy calls. */
    String service();

    /** The endpoint picked for this attempt. */
    Endpoint endpoint();

    /** The instance picked for this attempt; {@code endpoint().instance()}. */
    ServiceInstance instance();

    /** This attempt's number within the call: 1 for the first, 2 for a retry or a hedge, ... */
    int attempt();

    /** The call's context: its deadline, idempotence, hash key and subset. */
    CallContext context();

    /**
     * Passes {@code args} to the next interceptor, or sends the call with them. Call it at most
     * once per chain.
     *
     * @throws IllegalStateException if called twice
     * @throws IllegalArgumentException if {@code args} do not fit the method's parameters
     */
    Object proceed(Object[] args) throws Exception;
  }
}
