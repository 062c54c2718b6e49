package dev.switchboard.lb.http;

import dev.switchboard.lb.Call;
import dev.switchboard.lb.Call.AsyncAttempt;
import dev.switchboard.lb.Call.Attempt;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiPredicate;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One logical request as an attempt of the call engine ({@link Call}): per attempt it rewrites the
 * request for the picked endpoint, runs the interceptor chain over {@code HttpClient.sendAsync},
 * classifies the status and finishes the lease, and backs the endpoint off when a 503 says
 * Retry-After. Whether to retry, hedge or give up is the engine's decision, by the same rule as for
 * every integration ({@link Outcome#isRetryable}).
 *
 * <p>Thread-safe: attempts of one call may run concurrently (a hedge).
 */
final class HttpCall<T>
    implements Attempt<HttpResponse<T>, Exception>, AsyncAttempt<HttpResponse<T>> {
  private static final Logger logger = LoggerFactory.getLogger(LoadBalancedHttpClient.class);
  private static final long MIN_ATTEMPT_TIMEOUT_NANOS = 1_000_000L;
  private static final BiPredicate<String, String> WITHOUT_MARKER =
      (name, value) -> !name.equalsIgnoreCase(LoadBalancedHttpClient.IDEMPOTENT_HEADER);

  private final LoadBalancedHttpClient client;
  private final Cluster cluster;
  private final HttpRequest request;
  private final ServiceUri target;
  private final BodyHandler<T> handler;
  private final boolean idempotent;
  private final boolean replayable;
  private final CallContext ctx;
  private final AtomicInteger attempts = new AtomicInteger();
  private final AtomicBoolean explained = new AtomicBoolean();

  /** The asynchronous call's result (null for a blocking call, or until runAsync returns). */
  private volatile @Nullable CompletableFuture<?> asyncResult;

  private HttpCall(
      LoadBalancedHttpClient client,
      Cluster cluster,
      HttpRequest request,
      ServiceUri target,
      BodyHandler<T> handler,
      boolean idempotent,
      CallContext ctx) {
    this.client = client;
    this.cluster = cluster;
    this.request = request;
    this.target = target;
    this.handler = handler;
    this.idempotent = idempotent;
    this.replayable = BodyReplay.isReplayable(request);
    this.ctx = ctx;
  }

  /**
   * Resolves {@code request}'s service to its cluster and builds the call's context (deadline,
   * idempotence, hash key).
   *
   * @throws IllegalArgumentException if the address is malformed or names an unknown service
   */
  static <T> HttpCall<T> prepare(
      LoadBalancedHttpClient client, HttpRequest request, BodyHandler<T> handler) {
    Objects.requireNonNull(request, "request");
    Objects.requireNonNull(handler, "handler");
    ServiceUri target = ServiceUri.parse(request.uri());
    Cluster cluster = client.clusters.get(target.service());
    if (cluster == null) {
      throw new IllegalArgumentException(
          "request URI "
              + request.uri()
              + " names service '"
              + target.service()
              + "', but this client has clusters only for "
              + client.clusters.keySet());
    }
    boolean idempotent = LoadBalancedHttpClient.isIdempotent(request);
    CallContext.Builder ctx =
        CallContext.builder()
            .idempotent(idempotent)
            .timeout(request.timeout().orElse(client.defaultTimeout), cluster.ticker());
    if (client.hashKey != null) {
      CharSequence key = client.hashKey.apply(request);
      if (key != null) {
        ctx.hashKey(key);
      }
    }
    return new HttpCall<>(client, cluster, request, target, handler, idempotent, ctx.build());
  }

  /** The engine's call: one attempt only if the body cannot be sent twice; hedged if asked. */
  private Call newCall() {
    Call call = cluster.newCall(ctx);
    if (!replayable) {
      call.maxAttempts(1);
    } else {
      call.hedge(client.hedging);
    }
    return call;
  }

  /** Runs the call on this thread. */
  HttpResponse<T> execute() throws IOException, InterruptedException {
    try {
      return newCall().run(this);
    } catch (IOException | InterruptedException | RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IOException(e);
    }
  }

  /** Runs the call without blocking. */
  CompletableFuture<HttpResponse<T>> executeAsync() {
    CompletableFuture<HttpResponse<T>> result = newCall().runAsync(this);
    asyncResult = result;
    return result;
  }

  // ---- one attempt ---------------------------------------------------------------------------

  @Override
  public HttpResponse<T> run(Lease lease) throws Exception {
    CompletableFuture<HttpResponse<T>> future = start(lease);
    try {
      return future.get();
    } catch (ExecutionException e) {
      Throwable cause = Call.unwrapFailure(e);
      if (cause instanceof Exception ex) {
        throw ex;
      }
      throw (Error) cause;
    } catch (InterruptedException e) {
      future.cancel(true);
      Thread.currentThread().interrupt();
      throw e;
    }
  }

  @Override
  public CompletableFuture<HttpResponse<T>> start(Lease lease) {
    int attempt = attempts.incrementAndGet();
    if (lease.isCancelled()) {
      return CompletableFuture.failedFuture(new CancellationException("attempt abandoned"));
    }
    HttpRequest rewritten;
    try {
      rewritten = requestFor(lease);
    } catch (ConnectException e) {
      return CompletableFuture.failedFuture(e);
    }
    Exchange exchange = new Exchange(lease);
    lease.onCancel(exchange::abandoned);
    InterceptorChain.run(
            client.interceptors,
            rewritten,
            target.service(),
            lease.endpoint(),
            attempt,
            r -> send(exchange, r))
        .thenApply(response -> answered(lease, response))
        .whenComplete(exchange::ended);
    return exchange.result;
  }

  @SuppressWarnings("unchecked") // the wire future carries this call's body type
  private CompletableFuture<HttpResponse<?>> send(Exchange exchange, HttpRequest r) {
    CompletableFuture<HttpResponse<T>> wire = client.http.sendAsync(r, handler);
    exchange.sent(wire);
    CompletableFuture<HttpResponse<T>> bounded =
        r.timeout().isEmpty()
            ? wire
            : ExchangeDeadline.bound(
                wire, r.timeout().get().toNanos(), exchange.lease.endpoint().address());
    return (CompletableFuture<HttpResponse<?>>) (CompletableFuture<?>) bounded;
  }

  /** The request as sent to {@code lease}'s endpoint, with the attempt's remaining time. */
  private HttpRequest requestFor(Lease lease) throws ConnectException {
    long remaining = lease.attemptDeadlineNanos() - cluster.ticker().read();
    return HttpRequest.newBuilder(request, WITHOUT_MARKER)
        .uri(target.on(lease.instance()))
        .timeout(Duration.ofNanos(Math.max(remaining, MIN_ATTEMPT_TIMEOUT_NANOS)))
        .build();
  }

  /** Classifies a response, finishes the lease with it, and honours a 503's Retry-After. */
  @SuppressWarnings("unchecked")
  private HttpResponse<T> answered(Lease lease, HttpResponse<?> response) {
    Outcome outcome = HttpOutcomes.ofStatus(response.statusCode());
    if (response.statusCode() == 503) {
      honourRetryAfter(lease, response);
    }
    if (!lease.isCompleted()) {
      lease.complete(outcome);
    }
    return (HttpResponse<T>) response;
  }

  @Override
  public Outcome classify(Throwable error) {
    Outcome outcome = HttpOutcomes.ofError(error);
    if (!replayable && outcome.isRetryable(idempotent)) {
      error.addSuppressed(new NotRetried(bodyObstacle(outcome)));
    }
    return outcome;
  }

  /** Releases a response that will not reach the caller (its body may hold a connection). */
  @Override
  public void discard(HttpResponse<T> response) {
    if (response != null && response.body() instanceof AutoCloseable closeable) {
      try {
        closeable.close();
      } catch (Exception e) {
        logger.debug("Closing the body of a response not returned failed", e);
      }
    }
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
    } else {
      lease.backOff(delay.get());
    }
  }

  /** Why a safe retry is not made because of the body; logged once per call. */
  private String bodyObstacle(Outcome outcome) {
    String why =
        "not retried after "
            + outcome
            + ": the request body ("
            + BodyReplay.describe(request)
            + ") cannot be replayed; send it with BodyPublishers.ofByteArray, ofString or ofFile"
            + " to allow retries";
    if (explained.compareAndSet(false, true)) {
      logger.info("{} {}: {}", request.method(), request.uri(), why);
    }
    return why;
  }

  /**
   * One attempt's exchange and how it ends. Abandoned because another attempt of the call answered
   * first (a hedge won), it is not aborted: the attempt's future fails at once (the caller does not
   * wait), its lease is detached, and the exchange runs to its own end, which is bounded by its
   * request timeout ({@link ExchangeDeadline}). If that end is a connect failure or a timeout, it
   * would have happened anyway and is charged to the endpoint (as the engine charges an abandoned
   * attempt's own failures); an answer is charged as answered (late, not failed), and nothing else
   * counts. So a host that stopped answering leaves rotation even when hedges rescue all its
   * requests. Abandoned because the caller gave up (a cancelled async call), it is aborted at once,
   * which the engine records as CANCELLED.
   */
  private final class Exchange {
    private static final int RUNNING = 0;
    private static final int ENDED = 1;
    private static final int ABANDONED = 2;

    final Lease lease;
    final CompletableFuture<HttpResponse<T>> result = new CompletableFuture<>();
    private final AtomicInteger state = new AtomicInteger(RUNNING);
    private volatile @Nullable CompletableFuture<?> wire;
    private volatile boolean aborted;

    Exchange(Lease lease) {
      this.lease = lease;
      // Cancelled by its caller (a blocking caller interrupted): abort the exchange.
      result.whenComplete(
          (r, e) -> {
            if (result.isCancelled() && state.get() != ABANDONED) {
              abort();
            }
          });
    }

    void sent(CompletableFuture<?> w) {
      wire = w;
      if (aborted) {
        w.cancel(true);
      }
    }

    private void abort() {
      aborted = true;
      CompletableFuture<?> w = wire;
      if (w != null) {
        w.cancel(true); // aborts the exchange (JDK 16+)
      }
    }

    /** The lease's cancel hook: the engine abandoned this attempt. */
    void abandoned() {
      CompletableFuture<?> call = asyncResult;
      if (call != null && (call.isCancelled() || call.isCompletedExceptionally())) {
        abort(); // the caller gave up, or the call failed: nobody answered it
        return;
      }
      if (state.compareAndSet(RUNNING, ABANDONED)) {
        lease.detach(); // finished below when the exchange ends, not by the engine
        result.completeExceptionally(
            new CancellationException("abandoned: another attempt answered first"));
      }
    }

    /** The exchange (interceptors, wire, classification) ended with {@code r} or {@code e}. */
    void ended(@Nullable HttpResponse<T> r, @Nullable Throwable e) {
      if (state.compareAndSet(RUNNING, ENDED)) {
        if (e != null) {
          result.completeExceptionally(e);
        } else if (!result.complete(r)) {
          discard(r);
        }
        return;
      }
      if (e == null) {
        discard(r); // a late answer; answered() charged it as such
      } else if (!lease.isCompleted()) {
        Outcome own = HttpOutcomes.ofError(e);
        // The endpoint's own failures (Attempts.isOwnFailure in lb-api): the abandoning neither
        // makes a connect fail nor a request time out, as it did not abort this exchange.
        if (own == Outcome.CONNECT_FAILURE || own == Outcome.TIMEOUT) {
          lease.complete(own);
        } else {
          lease.close();
        }
      }
    }
  }

  /** Explains, on a failure, why the call was not retried. */
  static final class NotRetried extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotRetried(String message) {
      super(message, null, false, false);
    }
  }
}
