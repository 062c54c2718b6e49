package dev.switchboard.lb.thrift;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.Function;
import org.apache.thrift.protocol.TProtocol;
import org.jspecify.annotations.Nullable;

/**
 * Load-balanced Thrift clients: a proxy over a generated {@code Iface} that sends every call to a
 * picked endpoint over a pooled connection, with the generated client used unchanged.
 *
 * <pre>{@code
 * Echo.Iface echo = ThriftClients.builder(Echo.Iface.class, Echo.Client::new, thriftCluster)
 *     .idempotent("echo", "whoami")
 *     .timeout(Duration.ofSeconds(2))
 *     .build();
 * String reply = echo.echo("hello");
 * }</pre>
 *
 * <p>Per call the proxy acquires a lease, borrows a connection, builds a client on it, invokes the
 * method, classifies how it ended (connect failure, timeout, broken connection, or the server's
 * answer — declared exceptions and {@code TApplicationException} are answers), and retries on
 * another endpoint when safe: connect failures always, timeouts and broken connections only for
 * methods declared idempotent. Oneway methods are sent and not awaited. With {@link Builder#hedge},
 * an idempotent call that has not answered after a delay is also sent to another endpoint, and the
 * first answer wins. The proxy is thread-safe. When no endpoint can take a call, it throws {@link
 * dev.switchboard.lb.NoHealthyEndpointException} (unchecked).
 */
public final class ThriftClients {
  private ThriftClients() {}

  /** A proxy with no idempotent methods and the transport's read timeout as deadline. */
  public static <I> I create(
      Class<I> iface, Function<TProtocol, ? extends I> clientFactory, ThriftCluster cluster) {
    return builder(iface, clientFactory, cluster).build();
  }

  /** Starts a proxy for {@code iface}, whose generated client {@code clientFactory} builds. */
  public static <I> Builder<I> builder(
      Class<I> iface, Function<TProtocol, ? extends I> clientFactory, ThriftCluster cluster) {
    return new Builder<>(iface, clientFactory, cluster);
  }

  /** Configures a client proxy. Not thread-safe. */
  public static final class Builder<I> {
    private final Class<I> iface;
    private final Function<TProtocol, ? extends I> clientFactory;
    private final ThriftCluster cluster;
    private final Set<String> idempotent = new HashSet<>();
    private Duration timeout;
    private @Nullable Hedging hedging;

    private Builder(
        Class<I> iface, Function<TProtocol, ? extends I> clientFactory, ThriftCluster cluster) {
      this.iface = Objects.requireNonNull(iface, "iface");
      this.clientFactory = Objects.requireNonNull(clientFactory, "clientFactory");
      this.cluster = Objects.requireNonNull(cluster, "cluster");
      if (!iface.isInterface()) {
        throw new IllegalArgumentException(iface.getName() + " is not an interface");
      }
      this.timeout = cluster.transportConfig().readTimeout();
    }

    /**
     * Declares methods harmless to repeat: after a timeout or a broken connection they are retried
     * on another endpoint. Unknown names are rejected.
     */
    public Builder<I> idempotent(String... methods) {
      Set<String> known = new HashSet<>();
      for (Method m : iface.getMethods()) {
        known.add(m.getName());
      }
      for (String m : methods) {
        if (!known.contains(m)) {
          throw new IllegalArgumentException(
              "no method '" + m + "' on " + iface.getName() + " (has " + known + ")");
        }
      }
      idempotent.addAll(Arrays.asList(methods));
      return this;
    }

    /** The deadline of each call, across its attempts. */
    public Builder<I> timeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("timeout must be positive but was " + timeout);
      }
      this.timeout = timeout;
      return this;
    }

    /**
     * Hedges idempotent calls (Finagle's backup requests, gRPC's hedging): when a call has not
     * answered after {@code delay}, the same call is sent to another endpoint and the first answer
     * wins; the slower attempt's connection is closed and its endpoint is charged the time it took
     * so far (so latency-aware policies learn it is slow). Hedges are limited to {@code
     * maxExtraPercent}% of the calls, plus a burst of {@value Hedging#BURST}, so a slowdown of
     * every endpoint does not double the load. Pick {@code delay} around the latency percentile you
     * are willing to wait for (for example the p99 of a healthy endpoint). Off by default.
     */
    public Builder<I> hedge(Duration delay, int maxExtraPercent) {
      this.hedging = new Hedging(delay, maxExtraPercent);
      return this;
    }

    public I build() {
      Handler<I> handler = new Handler<>(this);
      return iface.cast(
          Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, handler));
    }
  }

  private static final class Handler<I> implements InvocationHandler {
    private final Class<I> iface;
    private final Function<TProtocol, ? extends I> clientFactory;
    private final ThriftCluster thrift;
    private final Cluster cluster;
    private final Set<String> idempotent;
    private final Duration timeout;
    private final @Nullable Hedging hedging;

    Handler(Builder<I> b) {
      this.iface = b.iface;
      this.clientFactory = b.clientFactory;
      this.thrift = b.cluster;
      this.cluster = b.cluster.cluster();
      this.idempotent = Set.copyOf(b.idempotent);
      this.timeout = b.timeout;
      this.hedging = b.hedging;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        return switch (method.getName()) {
          case "toString" -> "ThriftClient{" + iface.getSimpleName() + " -> " + thrift + "}";
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> throw new UnsupportedOperationException(method.getName());
        };
      }
      CallContext ctx =
          CallContext.builder()
              .idempotent(idempotent.contains(method.getName()))
              .timeout(timeout, cluster.ticker())
              .build();
      if (hedging != null && ctx.isIdempotent()) {
        Hedging h = hedging;
        return cluster.execute(
            ctx, lease -> hedgedAttempt(h, ctx, lease, method, args), ThriftOutcomes::classify);
      }
      return cluster.execute(
          ctx, lease -> attempt(ctx, lease, method, args), ThriftOutcomes::classify);
    }

    private Object attempt(CallContext ctx, Lease lease, Method method, Object[] args)
        throws Exception {
      TransportPool pool = thrift.pool(lease.endpoint());
      PooledConnection connection = pool.borrow();
      boolean reusable = false;
      try {
        Object result = invokeOn(ctx, connection, method, args);
        reusable = true;
        return result;
      } catch (Exception e) {
        reusable = ThriftOutcomes.connectionReusable(e);
        throw e;
      } finally {
        pool.release(connection, reusable);
      }
    }

    /** Calls {@code method} through a generated client on {@code connection}. */
    private Object invokeOn(
        CallContext ctx, PooledConnection connection, Method method, Object[] args)
        throws Exception {
      long remainingMillis = (ctx.deadlineNanos() - cluster.ticker().read()) / 1_000_000;
      long readMillis = thrift.transportConfig().readTimeout().toMillis();
      connection.setReadTimeout((int) Math.max(1, Math.min(readMillis, remainingMillis)));
      I client = clientFactory.apply(connection.protocol);
      try {
        return method.invoke(client, args);
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        if (cause instanceof Exception ex) {
          throw ex;
        }
        throw (Error) cause;
      }
    }

    /**
     * The attempt on {@code lease}, backed up by a hedge on another endpoint if it has not answered
     * after the hedging delay. The first answer wins: a hedge that wins closes this attempt's
     * connection, which ends its read at once.
     */
    private Object hedgedAttempt(
        Hedging h, CallContext ctx, Lease lease, Method method, Object[] args) throws Exception {
      h.deposit();
      TransportPool pool = thrift.pool(lease.endpoint());
      PooledConnection connection = pool.borrow();
      HedgedCall call =
          new HedgedCall(
              connection,
              System.nanoTime() + h.delayNanos,
              c -> startHedge(h, c, ctx, lease.endpoint(), method, args));
      thrift.watchForHedge(call);
      boolean reusable = false;
      try {
        Object result = invokeOn(ctx, connection, method, args);
        reusable = call.primaryAnswered() != HedgedCall.HEDGE_WON;
        return result;
      } catch (Exception e) {
        if (!ThriftOutcomes.classify(e).isEndpointFailure()) {
          // The server answered (a declared exception, TApplicationException): that is the result.
          reusable =
              call.primaryAnswered() != HedgedCall.HEDGE_WON
                  && ThriftOutcomes.connectionReusable(e);
          throw e;
        }
        int state = call.primaryFailed();
        reusable = state != HedgedCall.HEDGE_WON && ThriftOutcomes.connectionReusable(e);
        if (state == HedgedCall.PENDING) {
          throw e; // no hedge was sent: the retry loop decides
        }
        Object hedged;
        try {
          hedged = call.awaitHedge(ctx.deadlineNanos() - cluster.ticker().read());
        } catch (Exception hedgeFailure) {
          e.addSuppressed(hedgeFailure);
          throw e;
        }
        if (state != HedgedCall.HEDGE_WON) {
          lease.complete(ThriftOutcomes.classify(e)); // it failed on its own
        }
        if (hedged instanceof HedgedCall.Thrown thrown) {
          throw thrown.answer(); // the hedge's server answered with a declared exception
        }
        return hedged; // a lease the hedge cut short is finished as answered, slowly
      } finally {
        pool.release(connection, reusable);
      }
    }

    /** Runs on the hedge watch's thread when the attempt has not answered in time. */
    private void startHedge(
        Hedging h,
        HedgedCall call,
        CallContext ctx,
        Endpoint primary,
        Method method,
        Object[] args) {
      if (!call.tryStartHedge()) {
        return;
      }
      if (!h.tryWithdraw()) {
        call.hedgeFailed(new IllegalStateException("hedge budget spent"));
        return;
      }
      try {
        thrift.runHedge(() -> runHedge(call, ctx, primary, method, args));
      } catch (RejectedExecutionException closed) {
        call.hedgeFailed(closed);
      }
    }

    private void runHedge(
        HedgedCall call, CallContext ctx, Endpoint primary, Method method, Object[] args) {
      CallContext.Builder b =
          CallContext.builder().idempotent(true).deadlineNanos(ctx.deadlineNanos());
      if (ctx.hasHashKey()) {
        b.hashKey(ctx.hashKey());
      }
      CallContext hedgeCtx = b.build();
      hedgeCtx.exclude(primary);
      Lease lease;
      try {
        lease = cluster.acquire(hedgeCtx);
      } catch (RuntimeException none) {
        call.hedgeFailed(none);
        return;
      }
      if (lease.endpoint() == primary) {
        lease.complete(Outcome.CANCELLED); // no other endpoint: a hedge would only add load
        call.hedgeFailed(new IllegalStateException("no other endpoint to hedge on"));
        return;
      }
      thrift.hedgeSent();
      try {
        Object result = attempt(hedgeCtx, lease, method, args);
        lease.complete(Outcome.SUCCESS);
        if (call.hedgeAnswered(result)) {
          thrift.hedgeWon();
        }
      } catch (Exception e) {
        Outcome outcome = ThriftOutcomes.classify(e);
        if (!lease.isCompleted()) {
          lease.complete(outcome);
        }
        if (outcome.isEndpointFailure()) {
          call.hedgeFailed(e);
        } else if (call.hedgeAnswered(new HedgedCall.Thrown(e))) {
          thrift.hedgeWon(); // an answer, if an exceptional one: the first answer wins
        }
      } catch (Error e) {
        lease.close();
        call.hedgeFailed(e);
      }
    }
  }

  /**
   * One hedged attempt's race between its own call ({@code primary}) and its hedge. States: {@link
   * #PENDING} (no hedge), {@link #HEDGING} (hedge sent), {@link #DONE} (the primary answered first,
   * or failed before a hedge), {@link #HEDGE_WON}. Thread-safe.
   */
  static final class HedgedCall implements HedgeWatch.Watched {
    static final int PENDING = 0;
    static final int HEDGING = 1;
    static final int DONE = 2;
    static final int HEDGE_WON = 3;

    /** A hedge's answer that is a declared exception (or another answer thrown by the client). */
    record Thrown(Exception answer) {}

    private final PooledConnection primaryConnection;
    private final long dueNanos;
    private final Consumer<HedgedCall> onDue;
    private final AtomicInteger state = new AtomicInteger(PENDING);
    private final CompletableFuture<Object> hedge = new CompletableFuture<>();

    HedgedCall(PooledConnection primaryConnection, long dueNanos, Consumer<HedgedCall> onDue) {
      this.primaryConnection = primaryConnection;
      this.dueNanos = dueNanos;
      this.onDue = onDue;
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
      onDue.accept(this);
    }

    boolean tryStartHedge() {
      return state.compareAndSet(PENDING, HEDGING);
    }

    /** The primary answered; returns the state it found. */
    int primaryAnswered() {
      return state.getAndSet(DONE);
    }

    /** The primary failed; returns {@link #PENDING} if no hedge was or will be sent. */
    int primaryFailed() {
      if (state.compareAndSet(PENDING, DONE)) {
        return PENDING;
      }
      return state.get();
    }

    /** The hedge answered; true if it won the race (the primary's connection is then closed). */
    boolean hedgeAnswered(Object result) {
      boolean won = state.compareAndSet(HEDGING, HEDGE_WON);
      if (won) {
        primaryConnection.close(); // ends the primary's blocked read
      }
      hedge.complete(result);
      return won;
    }

    void hedgeFailed(Throwable error) {
      hedge.completeExceptionally(error);
    }

    /** The hedge's answer, waiting at most {@code nanos} for it. */
    Object awaitHedge(long nanos) throws Exception {
      try {
        return hedge.get(Math.max(0, nanos), TimeUnit.NANOSECONDS);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof Exception ex ? ex : e;
      }
    }
  }
}
