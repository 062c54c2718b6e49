package dev.switchboard.lb.http;

import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.ServiceInstance;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;

/**
 * Observes, rewrites or answers one attempt of a request, after its endpoint was picked: adds
 * headers (client identity, trace ids, auth), logs, measures. OkHttp's interceptor shape, made
 * asynchronous so that {@link LoadBalancedHttpClient#sendAsync} never blocks a thread:
 *
 * <pre>{@code
 * Interceptor identity =
 *     chain -> chain.proceed(
 *         HttpRequest.newBuilder(chain.request(), (name, value) -> true)
 *             .header("X-Client", "billing")
 *             .build());
 * }</pre>
 *
 * <p>Interceptors run in the order added to the client, once per attempt: a retry on another
 * endpoint runs the chain again with that endpoint. The response an interceptor returns must be the
 * one {@link Chain#proceed} produced, or one whose body has the type the caller's body handler
 * produces (the client hands it to the caller unchecked).
 *
 * <p>Implementations must be thread-safe, must not block in {@code intercept} (compose on the
 * returned future instead), and should not throw: an exception thrown here fails the attempt
 * without blaming the endpoint and without a retry.
 */
@FunctionalInterface
public interface Interceptor {

  /**
   * Handles one attempt; usually returns {@code chain.proceed(request)} for the same or an amended
   * request.
   */
  CompletableFuture<HttpResponse<?>> intercept(Chain chain);

  /**
   * One attempt as an interceptor sees it. Not thread-safe: use it from the interceptor that
   * received it.
   */
  interface Chain {

    /**
     * The request as it will be sent: addressed to the picked endpoint ({@code http[s]://host:port
     * /path?query}), with the remaining time of the call's deadline as its timeout.
     */
    HttpRequest request();

    /** The service the request was addressed to ({@code lb://service/...}). */
    String service();

    /** The endpoint picked for this attempt. */
    Endpoint endpoint();

    /** The instance picked for this attempt; {@code endpoint().instance()}. */
    ServiceInstance instance();

    /** This attempt's number: 1 for the first, 2 for the first retry, ... */
    int attempt();

    /**
     * Passes {@code request} to the next interceptor, or sends it. Call it at most once per chain.
     *
     * @throws IllegalStateException if called twice, or if {@code request} is addressed to another
     *     scheme, host or port than the picked endpoint
     */
    CompletableFuture<HttpResponse<?>> proceed(HttpRequest request);
  }
}
