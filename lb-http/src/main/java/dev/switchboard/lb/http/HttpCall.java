package dev.switchboard.lb.http;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import java.io.IOException;
import java.net.ConnectException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandler;
import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BiPredicate;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logical request and its attempts: rewrites the request for each picked endpoint, runs the
 * interceptor chain, classifies what came back, finishes the attempt's lease, and says whether a
 * retry is wanted. Whether a wanted retry is allowed (attempts, budget, deadline) is the cluster's
 * decision ({@link Cluster#retryDelayNanos}).
 *
 * <p>Not thread-safe: attempts run one after another (the asynchronous path hands each attempt to
 * the next through future completion, which orders them).
 */
final class HttpCall<T> {
  private static final Logger logger = LoggerFactory.getLogger(LoadBalancedHttpClient.class);
  private static final long MIN_ATTEMPT_TIMEOUT_NANOS = 1_000_000L;
  private static final BiPredicate<String, String> WITHOUT_MARKER =
      (name, value) -> !name.equalsIgnoreCase(LoadBalancedHttpClient.IDEMPOTENT_HEADER);

  final LoadBalancedHttpClient client;
  final Route route;
  final HttpRequest request;
  final ServiceUri target;
  final BodyHandler<T> handler;
  final boolean idempotent;
  final boolean replayable;
  final CallContext ctx;
  private int attempts;
  private @Nullable Verdict<T> retried;
  private boolean explained;

  HttpCall(
      LoadBalancedHttpClient client,
      Route route,
      HttpRequest request,
      ServiceUri target,
      BodyHandler<T> handler,
      boolean idempotent,
      CallContext ctx) {
    this.client = client;
    this.route = route;
    this.request = request;
    this.target = target;
    this.handler = handler;
    this.idempotent = idempotent;
    this.replayable = BodyReplay.isReplayable(request);
    this.ctx = ctx;
  }

  /**
   * Resolves {@code request}'s service to its route and builds the call's context (deadline,
   * idempotence, hash key, endpoints backed off by Retry-After).
   *
   * @throws IllegalArgumentException if the address is malformed or names an unknown service
   */
  static <T> HttpCall<T> prepare(
      LoadBalancedHttpClient client, HttpRequest request, BodyHandler<T> handler) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(handler, "handler");
    ServiceUri target = ServiceUri.parse(request.uri());
    Route route = client.routes.get(target.service());
    if (route == null) {
      throw new IllegalArgumentException(
          "request URI "
              + request.uri()
              + " names service '"
              + target.service()
              + "', but this client has clusters only for "
              + client.routes.keySet());
    }
    boolean idempotent = LoadBalancedHttpClient.isIdempotent(request);
    CallContext.Builder ctx =
        CallContext.builder()
            .idempotent(idempotent)
            .timeout(request.timeout().orElse(client.defaultTimeout), route.cluster().ticker());
    if (client.hashKey != null) {
      CharSequence key = client.hashKey.apply(request);
      if (key != null) {
        ctx.hashKey(key);
      }
    }
    CallContext context = ctx.build();
    route.backoff().excludeFrom(context);
    return new HttpCall<>(client, route, request, target, handler, idempotent, context);
  }

  /** Runs the call on this thread through {@link Cluster#execute}. */
  HttpResponse<T> execute() throws IOException, InterruptedException {
    Verdict<T> verdict;
    Throwable[] suppressed = {};
    try {
      verdict = cluster().execute(ctx, this::runBlocking, HttpOutcomes::ofError);
    } catch (RetrySignal lastWanted) {
      @SuppressWarnings("unchecked") // thrown by this call's own attempt
      Verdict<T> typed = (Verdict<T>) lastWanted.verdict;
      verdict = typed;
      suppressed = lastWanted.getSuppressed();
    }
    HttpResponse<T> response = verdict.response();
    if (response != null) {
      return response;
    }
    Throwable e = verdict.error(suppressed);
    if (e instanceof IOException io) {
      throw io;
    }
    if (e instanceof InterruptedException ie) {
      throw ie;
    }
    if (e instanceof RuntimeException re) {
      throw re;
    }
    if (e instanceof Error error) {
      throw error;
    }
    throw new IOException(e);
  }

  Cluster cluster() {
    return route.cluster();
  }

  /** Remembers the verdict a retry is about to replace, for when no retry can be made. */
  void retrying(Verdict<T> verdict) {
    retried = verdict;
  }

  /** The verdict of the attempt being retried, if a retry is under way. */
  @Nullable Verdict<T> retried() {
    return retried;
  }

  /**
   * Starts the next attempt, after its lease was acquired: releases the response of the attempt it
   * replaces and returns the new attempt's number.
   */
  int nextAttempt() {
    Verdict<T> previous = retried;
    if (previous != null) {
      previous.discard();
      retried = null;
    }
    return ++attempts;
  }

  /**
   * Runs attempt {@code attempt} on {@code lease} through the interceptors and {@code transport};
   * never throws.
   */
  CompletableFuture<HttpResponse<?>> run(
      Lease lease,
      int attempt,
      Function<HttpRequest, CompletableFuture<HttpResponse<?>>> transport) {
    HttpRequest rewritten;
    try {
      rewritten = requestFor(lease);
    } catch (ConnectException e) {
      return CompletableFuture.failedFuture(e);
    }
    return InterceptorChain.run(
        client.interceptors, rewritten, target.service(), lease.endpoint(), attempt, transport);
  }

  /** The request as sent to {@code lease}'s endpoint, with the deadline's remaining time. */
  private HttpRequest requestFor(Lease lease) throws ConnectException {
    long remaining = ctx.deadlineNanos() - cluster().ticker().read();
    return HttpRequest.newBuilder(request, WITHOUT_MARKER)
        .uri(target.on(lease.instance()))
        .timeout(Duration.ofNanos(Math.max(remaining, MIN_ATTEMPT_TIMEOUT_NANOS)))
        .build();
  }

  /** One blocking attempt, for {@link Cluster#execute}; throws to ask for a retry. */
  Verdict<T> runBlocking(Lease lease) throws RetrySignal {
    int attempt = nextAttempt();
    CompletableFuture<HttpResponse<?>> future = run(lease, attempt, this::sendBlocking);
    HttpResponse<?> response = null;
    Throwable error = null;
    try {
      response = future.get();
    } catch (ExecutionException e) {
      error = e.getCause();
    } catch (CancellationException e) {
      error = e;
    } catch (InterruptedException e) {
      future.cancel(true);
      error = e;
    }
    Verdict<T> verdict = finish(lease, response, error);
    if (verdict.retry) {
      retried = verdict;
      throw new RetrySignal(verdict);
    }
    return verdict;
  }

  private CompletableFuture<HttpResponse<?>> sendBlocking(HttpRequest r) {
    try {
      return CompletableFuture.completedFuture(client.http.send(r, handler));
    } catch (IOException | InterruptedException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * Classifies an attempt's result, finishes its lease, backs the endpoint off if it asked to, and
   * decides whether a retry is wanted.
   */
  Verdict<T> finish(Lease lease, @Nullable HttpResponse<?> response, @Nullable Throwable error) {
    Outcome outcome;
    Throwable cause = null;
    if (response != null) {
      outcome = HttpOutcomes.ofStatus(response.statusCode());
      if (response.statusCode() == 503) {
        honourRetryAfter(lease, response);
      }
    } else {
      cause =
          error == null
              ? new IllegalStateException("interceptor chain completed with no response")
              : HttpOutcomes.unwrap(error);
      outcome = HttpOutcomes.ofError(cause);
    }
    lease.complete(outcome);
    String obstacle = bodyObstacle(outcome, lease);
    boolean retry = obstacle == null && isSafeToRetry(outcome);
    return new Verdict<>(response, cause, outcome, retry, obstacle);
  }

  private void honourRetryAfter(Lease lease, HttpResponse<?> response) {
    Optional<String> header = response.headers().firstValue(RetryAfter.HEADER);
    if (header.isEmpty()) {
      return;
    }
    Optional<Duration> delay =
        RetryAfter.parse(header.get(), client.wallClock, client.maxRetryAfter);
    if (delay.isEmpty()) {
      logger.debug(
          "Service '{}': ignored Retry-After '{}' from {} (malformed or past)",
          target.service(),
          header.get(),
          lease.endpoint().address());
    } else if (route.backoff().backOff(lease.endpoint(), delay.get().toNanos())) {
      logger.info(
          "Service '{}': {} answered 503 with Retry-After '{}'; no new calls to it for {} ms",
          target.service(),
          lease.endpoint().address(),
          header.get(),
          delay.get().toMillis());
    }
  }

  /**
   * Whether a retry elsewhere is safe: always after a connect failure (nothing was sent); after
   * anything else that failed the endpoint only for idempotent requests, since the request was sent
   * and may have been processed.
   */
  private boolean isSafeToRetry(Outcome outcome) {
    return switch (outcome) {
      case CONNECT_FAILURE -> true;
      case OVERLOADED, TIMEOUT, TRANSPORT_FAILURE -> idempotent;
      case SUCCESS, APPLICATION_ERROR, CANCELLED -> false;
    };
  }

  /** Why a safe retry is not made because of the body, or null if the body is no obstacle. */
  private @Nullable String bodyObstacle(Outcome outcome, Lease lease) {
    if (replayable || !isSafeToRetry(outcome)) {
      return null;
    }
    String why =
        "not retried after "
            + outcome
            + " on "
            + lease.endpoint().address()
            + ": the request body ("
            + BodyReplay.describe(request)
            + ") cannot be replayed; send it with BodyPublishers.ofByteArray, ofString or ofFile"
            + " to allow retries";
    if (!explained) {
      explained = true;
      logger.info("{} {}: {}", request.method(), request.uri(), why);
    }
    return why;
  }

  /** Thrown by a blocking attempt to ask {@link Cluster#execute} for a retry. */
  static final class RetrySignal extends Exception {
    private static final long serialVersionUID = 1L;
    final transient Verdict<?> verdict;

    RetrySignal(Verdict<?> verdict) {
      super("retry wanted after " + verdict.outcome, null, true, false);
      this.verdict = verdict;
    }
  }
}
