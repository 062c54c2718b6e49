package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call;
import dev.switchboard.lb.Call.Hedging;
import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Subset;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Function;
import org.apache.thrift.async.AsyncMethodCallback;
import org.apache.thrift.protocol.TProtocol;
import org.jspecify.annotations.Nullable;

/**
 * The invocation handler of a blocking proxy ({@link ThriftClients.Builder#build}): each call runs
 * through the call engine with its method's {@link Plan}, as a {@link MethodAttempt} per attempt.
 * Thread-safe; immutable once built.
 */
final class ProxyHandler<I> implements InvocationHandler {
  private static final Object[] NO_ARGS = new Object[0];

  /**
   * One method's settings, resolved from its {@link MethodConfig} over the proxy's defaults.
   *
   * @param maxAttempts the method's own limit, or 0 for the cluster's retry policy's
   */
  record Plan(
      Duration timeout,
      boolean idempotent,
      int maxAttempts,
      @Nullable Hedging hedging,
      @Nullable Function<Object[], ?> hashKey,
      @Nullable Function<Object[], Subset> subset) {}

  final Class<I> iface;
  final Function<TProtocol, ? extends I> clientFactory;
  final ThriftCluster thrift;
  final Cluster cluster;
  private final List<ThriftInterceptor> interceptors;
  private final Subset subset;
  private final Map<String, Plan> plans = new HashMap<>();

  ProxyHandler(ThriftClients.Builder<I> b) {
    this.iface = b.iface;
    this.clientFactory = b.clientFactory;
    this.thrift = b.cluster;
    this.cluster = b.cluster.cluster();
    this.interceptors = List.copyOf(b.interceptors);
    this.subset = b.subset;
    Map<Hedging, Boolean> hedgings = new IdentityHashMap<>();
    // Idempotent methods hedge after the p99 unless the proxy says otherwise (one budget for all).
    Hedging proxyHedging = b.hedgingSet ? b.hedging : Hedging.adaptive(2);
    for (Method m : iface.getMethods()) {
      MethodConfig c = b.methods.get(m.getName());
      Plan plan =
          c == null
              ? new Plan(b.timeout, false, 0, proxyHedging, null, null)
              : plan(b, c, proxyHedging);
      plans.put(m.getName(), plan);
      if (plan.hedging() != null && plan.idempotent()) {
        hedgings.put(plan.hedging(), true);
      }
    }
    if (b.hedging != null) {
      hedgings.put(b.hedging, true); // counted even if no method is idempotent yet, as before
    }
    hedgings.keySet().forEach(thrift::register);
  }

  private Plan plan(ThriftClients.Builder<I> b, MethodConfig c, @Nullable Hedging proxyHedging) {
    boolean idempotent = c.idempotent != null && c.idempotent;
    Hedging hedging = c.hedgingSet ? c.hedging : proxyHedging;
    if (c.hedgingSet && hedging != null) {
      if (!idempotent) {
        throw new IllegalStateException(
            "hedging is set for "
                + c.name()
                + " but it is not idempotent, so it would never be hedged;"
                + " add idempotent(true) or remove hedge(...)");
      }
      if (c.maxAttempts == 1) {
        throw new IllegalStateException(
            "hedging is set for " + c.name() + " but maxAttempts is 1, which allows no hedge");
      }
    }
    return new Plan(
        c.timeout != null ? c.timeout : b.timeout,
        idempotent,
        c.maxAttempts,
        hedging,
        c.hashKey,
        c.subset);
  }

  Plan plan(Method method) {
    return plans.get(method.getName());
  }

  @Override
  public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
    if (method.getDeclaringClass() == Object.class) {
      return objectMethod(proxy, method, args, "ThriftClient{" + iface.getSimpleName());
    }
    Object[] callArgs = args == null ? NO_ARGS : args;
    Plan plan = plan(method);
    CallContext ctx = context(plan, method, callArgs);
    return newCall(plan, ctx).run(attempt(method, callArgs, ctx));
  }

  Object objectMethod(Object proxy, Method method, Object[] args, String prefix) {
    return switch (method.getName()) {
      case "toString" -> prefix + " -> " + thrift + "}";
      case "hashCode" -> System.identityHashCode(proxy);
      case "equals" -> proxy == args[0];
      default -> throw new UnsupportedOperationException(method.getName());
    };
  }

  /** A call configured by {@code plan}: its hedging and attempt limit. */
  Call newCall(Plan plan, CallContext ctx) {
    Call call = cluster.newCall(ctx).hedge(plan.hedging());
    return plan.maxAttempts() > 0 ? call.maxAttempts(plan.maxAttempts()) : call;
  }

  MethodAttempt<I> attempt(Method method, Object[] args, CallContext ctx) {
    return new MethodAttempt<>(thrift, clientFactory, method, args, interceptors, ctx);
  }

  /**
   * A call of {@code method} with {@code args}: its deadline, idempotence, hash key and subset, as
   * its plan says.
   */
  CallContext context(Plan plan, Method method, Object[] args) {
    CallContext.Builder ctx =
        CallContext.builder()
            .idempotent(plan.idempotent())
            .timeout(plan.timeout(), cluster.ticker());
    Function<Object[], ?> keyOf = plan.hashKey();
    if (keyOf != null) {
      Object key = apply(keyOf, args, method, "hash key");
      if (key instanceof Number n) {
        ctx.hashKey(n.longValue());
      } else if (key instanceof CharSequence cs) {
        ctx.hashKey(cs);
      } else if (key != null) {
        ctx.hashKey(key.toString());
      }
    }
    Function<Object[], Subset> subsetOf = plan.subset();
    Subset s = subset;
    if (subsetOf != null) {
      Object own = apply(subsetOf, args, method, "subset");
      if (!(own instanceof Subset ownSubset)) {
        throw new IllegalArgumentException(
            "the subset function of " + name(method) + " returned null for the call's arguments");
      }
      s = s.with(ownSubset);
    }
    return ctx.subset(s).build();
  }

  private Object apply(Function<Object[], ?> f, Object[] args, Method method, String what) {
    try {
      return f.apply(args.clone());
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "the " + what + " function of " + name(method) + " threw on the call's arguments", e);
    }
  }

  private String name(Method method) {
    return iface.getSimpleName() + "." + method.getName();
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

  /**
   * An asynchronous proxy: each call of a generated {@code AsyncIface} method runs the matching
   * method of the blocking client through the call engine ({@code Call.runAsync}): retries wait on
   * the cluster's scheduler, hedges race as futures, and the callback hears the first answer.
   */
  static final class Async<I> implements InvocationHandler {
    private final Class<?> asyncIface;
    private final ProxyHandler<I> sync;
    private final @Nullable Executor executor;
    private final @Nullable AsyncClientFactory<?> clients;

    /** Runs attempts non-blocking through {@code clients}, else on threads of {@code executor}. */
    Async(
        Class<?> asyncIface,
        ProxyHandler<I> sync,
        @Nullable Executor executor,
        @Nullable AsyncClientFactory<?> clients) {
      this.asyncIface = asyncIface;
      this.sync = sync;
      this.executor = executor;
      this.clients = clients;
    }

    @Override
    public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
      if (method.getDeclaringClass() == Object.class) {
        return sync.objectMethod(
            proxy, method, args, "AsyncThriftClient{" + asyncIface.getSimpleName());
      }
      Method blocking = sync.blockingTwin(method);
      @SuppressWarnings("unchecked")
      AsyncMethodCallback<Object> callback = (AsyncMethodCallback<Object>) args[args.length - 1];
      Object[] callArgs = Arrays.copyOf(args, args.length - 1);
      Plan plan = sync.plan(blocking);
      CallContext ctx = sync.context(plan, blocking, callArgs);
      Call.AsyncAttempt<Object> attempt =
          clients != null
              ? new NonblockingAttempt<>(sync.thrift, clients, method, callArgs)
              : sync.attempt(blocking, callArgs, ctx).on(executor);
      sync.newCall(plan, ctx)
          .runAsync(attempt)
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
