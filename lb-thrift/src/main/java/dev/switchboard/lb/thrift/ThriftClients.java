package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Call.Hedging;
import dev.switchboard.lb.Subset;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
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
 * first answer wins. Each method may set its own deadline, idempotence, attempts, hedging, hash key
 * and subset ({@link Builder#method}); {@link ThriftInterceptor}s run around each attempt; {@link
 * Builder#subset} keeps calls on members with matching metadata. The proxy is thread-safe. When no
 * endpoint can take a call, it throws {@link dev.switchboard.lb.NoHealthyEndpointException}
 * (unchecked).
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
    final Class<I> iface;
    final Function<TProtocol, ? extends I> clientFactory;
    final ThriftCluster cluster;
    final Map<String, MethodConfig> methods = new LinkedHashMap<>();
    final List<ThriftInterceptor> interceptors = new ArrayList<>();
    private final Set<String> methodNames = new TreeSet<>();
    Subset subset = Subset.ALL;
    Duration timeout;
    @Nullable Hedging hedging;
    boolean hedgingSet;

    private Builder(
        Class<I> iface, Function<TProtocol, ? extends I> clientFactory, ThriftCluster cluster) {
      this.iface = Objects.requireNonNull(iface, "iface");
      this.clientFactory = Objects.requireNonNull(clientFactory, "clientFactory");
      this.cluster = Objects.requireNonNull(cluster, "cluster");
      if (!iface.isInterface()) {
        throw new IllegalArgumentException(iface.getName() + " is not an interface");
      }
      for (Method m : iface.getMethods()) {
        methodNames.add(m.getName());
      }
      this.timeout = cluster.transportConfig().readTimeout();
    }

    /**
     * Declares methods harmless to repeat: after a timeout or a broken connection they are retried
     * on another endpoint. The same as {@code method(name, m -> m.idempotent(true))} for each.
     * Unknown names are rejected.
     */
    public Builder<I> idempotent(String... methods) {
      for (String m : methods) {
        requireMethod(m);
      }
      for (String m : methods) {
        method(m, c -> c.idempotent(true));
      }
      return this;
    }

    /**
     * Routes calls of {@code method} by a key computed from their arguments, for {@code
     * BalancingPolicy.consistentHash()}: calls with the same key go to the same server while it is
     * a member (a cache shard, a session's home). A {@link Number} key is used as is, a {@link
     * CharSequence} is hashed, any other object by its {@code toString()}; a null key spreads the
     * call like one without a key. If the function throws, the call fails with an {@link
     * IllegalArgumentException} naming the method. Unknown names are rejected. The same as {@code
     * method(name, m -> m.hashKey(key))}.
     *
     * <pre>{@code
     * .hashKey("get", args -> args[0]) // get(String userId, ...): each user's calls to one server
     * }</pre>
     */
    public Builder<I> hashKey(String method, Function<Object[], ?> key) {
      Objects.requireNonNull(key, "key");
      return method(method, m -> m.hashKey(key));
    }

    /**
     * Configures one method where it differs from the proxy's defaults: its deadline, idempotence,
     * attempts, hedging, hash key and subset (see {@link MethodConfig}). Calling it again for the
     * same method amends the same configuration.
     *
     * @throws IllegalArgumentException if the interface has no method {@code name} (the message
     *     lists those it has), or a setting is invalid
     */
    public Builder<I> method(String name, Consumer<MethodConfig> config) {
      requireMethod(name);
      Objects.requireNonNull(config, "config");
      config.accept(
          methods.computeIfAbsent(
              name,
              n ->
                  new MethodConfig(
                      iface.getSimpleName() + "." + n,
                      cluster.cluster().retryPolicy().maxAttempts())));
      return this;
    }

    private void requireMethod(String name) {
      if (!methodNames.contains(name)) {
        throw new IllegalArgumentException(
            "no method '" + name + "' on " + iface.getName() + " (has " + methodNames + ")");
      }
    }

    /** The deadline of each call, across its attempts, for methods that do not set their own. */
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
     * wins; the slower attempt stops waiting, its connection goes back to the pool once its reply
     * was drained in the background, and its endpoint is charged the time it took so far (so
     * latency-aware policies learn it is slow). Hedges are limited to {@code maxExtraPercent}% of
     * the calls, plus a burst of {@value Hedging#BURST}, so a slowdown of every endpoint does not
     * double the load. Pick {@code delay} around the latency percentile you are willing to wait for
     * (for example the p99 of a healthy endpoint). A method may set its own ({@link
     * MethodConfig#hedge}) or none ({@link MethodConfig#noHedging}).
     *
     * <p>By default, idempotent methods are hedged adaptively ({@link Hedging#adaptive}{@code (2)}:
     * after the p99 of the proxy's recent calls, within 2% extra attempts, as Finagle's {@code
     * MethodBuilder.idempotent}), so a server that stops answering holds a call for about the p99
     * rather than a timeout; {@link #noHedging()} turns that off.
     */
    public Builder<I> hedge(Duration delay, int maxExtraPercent) {
      return hedge(delay, maxExtraPercent, Hedging.BURST);
    }

    /**
     * As {@link #hedge(Duration, int)}, with a burst of {@code burst} hedges allowed at once before
     * the percentage applies (see {@link Hedging#of(Duration, int, int)}).
     */
    public Builder<I> hedge(Duration delay, int maxExtraPercent, int burst) {
      this.hedging = Hedging.of(delay, maxExtraPercent, burst);
      this.hedgingSet = true;
      return this;
    }

    /** Never hedges, not even the idempotent methods (see {@link #hedge}). */
    public Builder<I> noHedging() {
      this.hedging = null;
      this.hedgingSet = true;
      return this;
    }

    /**
     * Adds an interceptor; interceptors run in the order added, around each attempt (see {@link
     * ThriftInterceptor}).
     */
    public Builder<I> interceptor(ThriftInterceptor interceptor) {
      interceptors.add(Objects.requireNonNull(interceptor, "interceptor"));
      return this;
    }

    /**
     * Sends every call of this proxy only to members whose registered metadata match {@code subset}
     * ({@code Subset.of("version", "2")}): never to the others, even when no matching member can
     * take a call, which then fails with {@link dev.switchboard.lb.NoMatchingEndpointException}
     * naming the subset and each member's values. A method may narrow it per call ({@link
     * MethodConfig#subset}).
     */
    public Builder<I> subset(Subset subset) {
      this.subset = Objects.requireNonNull(subset, "subset");
      return this;
    }

    /**
     * Builds the proxy.
     *
     * @throws IllegalStateException if a method sets its own hedging but is not idempotent, or
     *     allows a single attempt
     */
    public I build() {
      ProxyHandler<I> handler = new ProxyHandler<>(this);
      return iface.cast(
          Proxy.newProxyInstance(iface.getClassLoader(), new Class<?>[] {iface}, handler));
    }

    /**
     * Builds a proxy over the generated asynchronous interface ({@code Echo.AsyncIface}) whose
     * calls hold no thread while in flight: each runs on a pooled non-blocking connection through
     * the generated asynchronous client ({@code Echo.AsyncClient::new}), connected, written and
     * read by this cluster's selector thread, through the same call engine as {@link #build()} (the
     * same method configuration, deadline and hedging; retries wait on the cluster's scheduler).
     * Thousands of calls can be in flight from one caller thread.
     *
     * <p>Callbacks run on the selector thread: they must not block (hand slow work to an executor
     * of yours), or every asynchronous call of the cluster waits. Needs framed transport without
     * TLS (libthrift has no non-blocking TLS client before 0.22) and no interceptors (they wrap a
     * blocking exchange); otherwise use {@link #buildAsync(Class, Executor)}.
     *
     * @throws IllegalArgumentException if {@code asyncIface} is not an interface whose methods each
     *     end in an {@code AsyncMethodCallback} and match a method of the blocking interface
     * @throws IllegalStateException if the cluster's transport is unframed or TLS, or interceptors
     *     were added
     */
    public <A> A buildAsync(Class<A> asyncIface, AsyncClientFactory<? extends A> clients) {
      Objects.requireNonNull(clients, "clients");
      ThriftTransportConfig config = cluster.transportConfig();
      String refusal =
          !config.framed()
              ? "framed transport, but " + cluster + " is unframed"
              : config.sslContext() != null
                  ? "transport without TLS, but " + cluster + " uses TLS"
                  : !interceptors.isEmpty()
                      ? "no interceptors, but " + interceptors.size() + " were added"
                      : null;
      if (refusal != null) {
        throw new IllegalStateException(
            "non-blocking asynchronous calls need "
                + refusal
                + ": use buildAsync(asyncIface, executor)");
      }
      return asyncProxy(asyncIface, null, clients);
    }

    /**
     * Builds a proxy over the generated asynchronous interface ({@code Echo.AsyncIface}) whose
     * calls never block the caller: each runs the blocking client's method of the same name on a
     * pooled connection, on a thread of {@code executor}, through the same call engine as {@link
     * #build()} (the same method configuration, interceptors, deadline and hedging). Retries wait
     * on the cluster's scheduler and hedges race without blocking; the callback hears the first
     * answer (a declared exception goes to {@code onError}). {@code executor} must have a thread
     * per call in flight (a virtual-thread executor on JDK 21, or a cached pool); {@link
     * #buildAsync(Class, AsyncClientFactory)} needs none, where the transport allows.
     *
     * @throws IllegalArgumentException if {@code asyncIface} is not an interface whose methods each
     *     end in an {@code AsyncMethodCallback} and match a method of the blocking interface
     */
    public <A> A buildAsync(Class<A> asyncIface, Executor executor) {
      return asyncProxy(asyncIface, Objects.requireNonNull(executor, "executor"), null);
    }

    private <A> A asyncProxy(
        Class<A> asyncIface,
        @Nullable Executor executor,
        @Nullable AsyncClientFactory<? extends A> clients) {
      if (!asyncIface.isInterface()) {
        throw new IllegalArgumentException(asyncIface.getName() + " is not an interface");
      }
      ProxyHandler<I> handler = new ProxyHandler<>(this);
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
              new ProxyHandler.Async<>(asyncIface, handler, executor, clients)));
    }
  }
}
