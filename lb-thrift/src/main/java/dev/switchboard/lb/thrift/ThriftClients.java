package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call;
import dev.switchboard.lb.Call.Hedging;
import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.thrift.async.AsyncMethodCallback;
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
 * first answer wins (by default after the p99 of recent calls, for idempotent methods). The proxy
 * is thread-safe. When no endpoint can take a call, it throws {@link
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
    private final Map<String, Function<Object[], ?>> hashKeys = new HashMap<>();
    private Duration timeout;
    private @Nullable Hedging hedging;
    private boolean hedgingSet;

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
      for (String m : methods) {
        requireMethod(m);
      }
      idempotent.addAll(Arrays.asList(methods));
      return this;
    }

    /**
     * Routes calls of {@code method} by a key computed from their arguments, for {@code
     * BalancingPolicy.consistentHash()}: calls with the same key go to the same server while it is
     * a member (a cache shard, a session's home). A {@link Number} key is used as is, a {@link
     * CharSequence} is hashed, any other object by its {@code toString()}; a null key spreads the
     * call like one without a key. If the function throws, the call fails with an {@link
     * IllegalArgumentException} naming the method. Unknown names are rejected.
     *
     * <pre>{@code
     * .hashKey("get", args -> args[0]) // get(String userId, ...): each user's calls to one server
     * }</pre>
     */
    public Builder<I> hashKey(String method, Function<Object[], ?> key) {
      requireMethod(method);
      hashKeys.put(method, Objects.requireNonNull(key, "key"));
      return this;
    }

    private void requireMethod(String name) {
      Set<String> known = new HashSet<>();
      for (Method m : iface.getMethods()) {
        known.add(m.getName());
      }
      if (!known.contains(name)) {
        throw new IllegalArgumentException(
            "no method '" + name + "' on " + iface.getName() + " (has " + known + ")");
      }
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
     * are willing to wait for (for example the p99 of a healthy endpoint).
     *
     * <p>By default, a proxy with {@link #idempotent} methods hedges them adaptively ({@link
     * Hedging#adaptive}{@code (2)}: after the p99 of its recent calls, within 2% extra attempts, as
     * Finagle's {@code MethodBuilder.idempotent}), so a server that stops answering holds a call
     * for about the p99 rather than a timeout; {@link #noHedging()} turns that off.
     */
    public Builder<I> hedge(Duration delay, int maxExtraPercent) {
      this.hedging = Hedging.of(delay, maxExtraPercent);
      this.hedgingSet = true;
      return this;
    }

    /** Never hedges, not even the idempotent methods (see {@link #hedge}). */
    public Builder<I> noHedging() {
      this.hedging = null;
      this.hedgingSet = true;
      return this;
    }

    public I build() {
      Handler<I> handler = new Handler<>(this);
      return iface.cast(
          Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, handler));
    }

    /**
     * Builds a proxy over the generated asynchronous interface ({@code Echo.AsyncIface}) whose
     * calls never block the caller: each runs the blocking client's method of the same name on a
     * pooled connection, on a thread of {@code executor}, through the same call engine as {@link
     * #build()} (the same idempotent methods, deadline and hedging). Retries wait on the cluster's
     * scheduler and hedges race without blocking; the callback hears the first answer (a declared
     * exception goes to {@code onError}). {@code executor} must have a thread per call in flight (a
     * virtual-thread executor on JDK 21, or a cached pool).
     *
     * @throws IllegalArgumentException if {@code asyncIface} is not an interface whose methods each
     *     end in an {@code AsyncMethodCallback} and match a method of the blocking interface
     */
    public <A> A buildAsync(Class<A> asyncIface, Executor executor) {
      Objects.requireNonNull(executor, "executor");
      if (!asyncIface.isInterface()) {
        throw new IllegalArgumentException(asyncIface.getName() + " is not an interface");
      }
      Handler<I> handler = new Handler<>(this);
      for (Method m : asyncIface.getMethods()) {
        Class<?>[] types = m.getParameterTypes();
        if (types.length == 0 || types[types.length - 1] != AsyncMethodCallback.class) {
          throw new IllegalArgumentException(
              m + " does not end in an AsyncMethodCallback: not a generated AsyncIface");
        }
        handler.blockingTwin(m);
      }
      return asyncIface.cast(
          Proxy.newProxyInstance(
              asyncIface.getClassLoader(),
              new Class<?>[] {asyncIface},
              new AsyncHandler<>(asyncIface, handler, executor)));
    }
  }

  private static final class Handler<I> implements InvocationHandler {
    private final Class<I> iface;
    private final Function<TProtocol, ? extends I> clientFactory;
    private final ThriftCluster thrift;
    private final Cluster cluster;
    private final Set<String> idempotent;
    private final Map<String, Function<Object[], ?>> hashKeys;
    private final Duration timeout;
    private final @Nullable Hedging hedging;

    Handler(Builder<I> b) {
      this.iface = b.iface;
      this.clientFactory = b.clientFactory;
      this.thrift = b.cluster;
      this.cluster = b.cluster.cluster();
      this.idempotent = Set.copyOf(b.idempotent);
      this.hashKeys = Map.copyOf(b.hashKeys);
      this.timeout = b.timeout;
      this.hedging = b.hedgingSet || idempotent.isEmpty() ? b.hedging : Hedging.adaptive(2);
      if (hedging != null) {
        thrift.register(hedging);
      }
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
      return cluster
          .newCall(context(method, args))
          .hedge(hedging)
          .run(new MethodAttempt<>(thrift, clientFactory, method, args));
    }

    /**
     * A call of {@code method} with {@code args}: its deadline, whether it was declared idempotent,
     * and its hash key if one was declared for it.
     */
    CallContext context(Method method, Object @Nullable [] args) {
      CallContext.Builder ctx =
          CallContext.builder()
              .idempotent(idempotent.contains(method.getName()))
              .timeout(timeout, cluster.ticker());
      Function<Object[], ?> keyOf = hashKeys.get(method.getName());
      if (keyOf != null) {
        Object key;
        try {
          key = keyOf.apply(args == null ? new Object[0] : args);
        } catch (RuntimeException e) {
          throw new IllegalArgumentException(
              "the hash key function of "
                  + iface.getSimpleName()
                  + "."
                  + method.getName()
                  + " threw on the call's arguments",
              e);
        }
        if (key instanceof Number n) {
          ctx.hashKey(n.longValue());
        } else if (key instanceof CharSequence cs) {
          ctx.hashKey(cs);
        } else if (key != null) {
          ctx.hashKey(key.toString());
        }
      }
      return ctx.build();
    }

    /**
     * The blocking interface's method an {@code AsyncIface} method stands for: same name, same
     * parameters without the trailing callback.
     */
    Method blockingTwin(Method async) {
      Class<?>[] types = async.getParameterTypes();
      try {
        return iface.getMethod(async.getName(), Arrays.copyOf(types, types.length - 1));
      } catch (NoSuchMethodException e) {
        throw new IllegalArgumentException(
            async + " has no blocking counterpart on " + iface.getName(), e);
      }
    }
  }

  /**
   * An asynchronous proxy: each call of a generated {@code AsyncIface} method runs the matching
   * method of the blocking client through the call engine ({@code Call.runAsync}): retries wait on
   * the cluster's scheduler, hedges race as futures, and the callback hears the first answer.
   */
  private static final class AsyncHandler<I> implements InvocationHandler {
    private final Class<?> asyncIface;
    private final Handler<I> sync;
    private final Executor executor;

    AsyncHandler(Class<?> asyncIface, Handler<I> sync, Executor executor) {
      this.asyncIface = asyncIface;
      this.sync = sync;
      this.executor = executor;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        return switch (method.getName()) {
          case "toString" ->
              "AsyncThriftClient{" + asyncIface.getSimpleName() + " -> " + sync.thrift + "}";
          case "hashCode" -> System.identityHashCode(proxy);
          case "equals" -> proxy == args[0];
          default -> throw new UnsupportedOperationException(method.getName());
        };
      }
      Method blocking = sync.blockingTwin(method);
      @SuppressWarnings("unchecked")
      AsyncMethodCallback<Object> callback = (AsyncMethodCallback<Object>) args[args.length - 1];
      Object[] callArgs = Arrays.copyOf(args, args.length - 1);
      MethodAttempt<I> attempt =
          new MethodAttempt<>(sync.thrift, sync.clientFactory, blocking, callArgs);
      sync.cluster
          .newCall(sync.context(blocking, callArgs))
          .hedge(sync.hedging)
          .runAsync(lease -> attempt.startOn(lease, executor))
          .whenComplete(
              (result, error) -> {
                if (error == null) {
                  callback.onComplete(result);
                } else {
                  Throwable cause = Call.unwrapFailure(error);
                  callback.onError(cause instanceof Exception e ? e : new RuntimeException(cause));
                }
              });
      return null;
    }
  }
}
