package dev.switchboard.lb.thrift;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.apache.thrift.protocol.TProtocol;

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
 * methods declared idempotent. Oneway methods are sent and not awaited. The proxy is thread-safe.
 * When no endpoint can take a call, it throws {@link dev.switchboard.lb.NoHealthyEndpointException}
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
    private final Class<I> iface;
    private final Function<TProtocol, ? extends I> clientFactory;
    private final ThriftCluster cluster;
    private final Set<String> idempotent = new HashSet<>();
    private Duration timeout;

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

    Handler(Builder<I> b) {
      this.iface = b.iface;
      this.clientFactory = b.clientFactory;
      this.thrift = b.cluster;
      this.cluster = b.cluster.cluster();
      this.idempotent = Set.copyOf(b.idempotent);
      this.timeout = b.timeout;
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
      return cluster.execute(
          ctx, lease -> attempt(ctx, lease, method, args), ThriftOutcomes::classify);
    }

    private Object attempt(
        CallContext ctx, dev.switchboard.lb.Lease lease, Method method, Object[] args)
        throws Exception {
      TransportPool pool = thrift.pool(lease.endpoint());
      PooledConnection connection = pool.borrow();
      boolean reusable = false;
      try {
        long remainingMillis = (ctx.deadlineNanos() - cluster.ticker().read()) / 1_000_000;
        long readMillis = thrift.transportConfig().readTimeout().toMillis();
        connection.setReadTimeout((int) Math.max(1, Math.min(readMillis, remainingMillis)));
        I client = clientFactory.apply(connection.protocol);
        Object result = method.invoke(client, args);
        reusable = true;
        return result;
      } catch (InvocationTargetException e) {
        Throwable cause = e.getCause();
        reusable = ThriftOutcomes.connectionReusable(cause);
        if (cause instanceof Exception ex) {
          throw ex;
        }
        throw (Error) cause;
      } finally {
        pool.release(connection, reusable);
      }
    }
  }
}
