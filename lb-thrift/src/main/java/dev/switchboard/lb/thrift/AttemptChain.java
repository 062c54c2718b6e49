package dev.switchboard.lb.thrift;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.ServiceInstance;
import java.lang.reflect.Method;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The interceptor chain of one attempt (OkHttp's {@code RealInterceptorChain}, as lb-http's {@code
 * InterceptorChain}): link {@code index} calls interceptor {@code index} with link {@code index +
 * 1}; the link past the last interceptor sends the call. Not thread-safe; one per attempt and link.
 */
final class AttemptChain implements ThriftInterceptor.Chain {
  /** The network end of the chain: sends the call with these arguments on the lease. */
  @FunctionalInterface
  interface Transport {
    Object send(Object[] args) throws Exception;
  }

  /**
   * What the links of one attempt share: whether the call reached the transport and how the
   * transport ended, so the lease is judged by the exchange rather than by what interceptors did.
   */
  static final class Exchange {
    final List<ThriftInterceptor> interceptors;
    final Method method;
    final String service;
    final Lease lease;
    final int attempt;
    final CallContext context;
    final Transport transport;
    private boolean sent;
    private @Nullable Exception networkError;

    Exchange(
        List<ThriftInterceptor> interceptors,
        Method method,
        String service,
        Lease lease,
        int attempt,
        CallContext context,
        Transport transport) {
      this.interceptors = interceptors;
      this.method = method;
      this.service = service;
      this.lease = lease;
      this.attempt = attempt;
      this.context = context;
      this.transport = transport;
    }

    /** Runs the chain from the first interceptor and settles the lease as described. */
    Object run(Object[] args) throws Exception {
      Object result;
      try {
        result = new AttemptChain(this, 0, args).proceed(args);
      } catch (Exception e) {
        settle(e);
        throw e;
      }
      settle(null);
      return result;
    }

    /**
     * Judges the lease by the exchange, not by what interceptors made of it. An exception from the
     * transport itself, or an answer after a clean exchange, is left to the call engine (which
     * classifies it and may retry). Otherwise: a failed exchange is charged as the transport failed
     * (so an idempotent call is retried even if an interceptor wrapped the exception or answered
     * with a fallback), an interceptor's exception after a clean exchange is the server's success,
     * and a call that never reached the transport is cancelled (no charge, no retry).
     */
    private void settle(@Nullable Exception thrown) {
      if ((thrown != null && thrown == networkError)
          || lease.isCompleted()
          || lease.isCancelled()) {
        return;
      }
      Exception failure = networkError;
      if (failure != null) {
        Outcome outcome = ThriftOutcomes.classify(failure);
        if (outcome == Outcome.CANCELLED) {
          lease.close();
        } else {
          lease.complete(outcome);
        }
      } else if (!sent) {
        lease.close();
      } else if (thrown != null) {
        lease.complete(Outcome.SUCCESS);
      }
    }

    private Object send(Object[] args) throws Exception {
      sent = true;
      try {
        return transport.send(args);
      } catch (Exception e) {
        networkError = e;
        throw e;
      }
    }
  }

  private final Exchange x;
  private final int index;
  private final Object[] args;
  private boolean proceeded;

  private AttemptChain(Exchange x, int index, Object[] args) {
    this.x = x;
    this.index = index;
    this.args = args;
  }

  @Override
  public Method method() {
    return x.method;
  }

  @Override
  public Object[] args() {
    return args.clone();
  }

  @Override
  public String service() {
    return x.service;
  }

  @Override
  public Endpoint endpoint() {
    return x.lease.endpoint();
  }

  @Override
  public ServiceInstance instance() {
    return x.lease.instance();
  }

  @Override
  public int attempt() {
    return x.attempt;
  }

  @Override
  public CallContext context() {
    return x.context;
  }

  @Override
  public Object proceed(Object[] next) throws Exception {
    Objects.requireNonNull(next, "args");
    String caller = index == 0 ? "the proxy" : "interceptor " + x.interceptors.get(index - 1);
    if (proceeded) {
      throw new IllegalStateException(caller + " called proceed() twice in one attempt");
    }
    proceeded = true;
    requireFits(caller, next);
    if (index == x.interceptors.size()) {
      return x.send(next);
    }
    ThriftInterceptor interceptor = x.interceptors.get(index);
    Object result = interceptor.intercept(new AttemptChain(x, index + 1, next));
    requireReturnable(interceptor, result);
    return result;
  }

  private void requireFits(String caller, Object[] next) {
    Class<?>[] types = x.method.getParameterTypes();
    if (next.length != types.length) {
      throw new IllegalArgumentException(
          caller
              + " proceeded with "
              + next.length
              + " arguments to "
              + name()
              + ", which takes "
              + types.length);
    }
    for (int i = 0; i < types.length; i++) {
      if (!fits(types[i], next[i])) {
        throw new IllegalArgumentException(
            caller
                + " proceeded with a "
                + describe(next[i])
                + " as argument "
                + (i + 1)
                + " of "
                + name()
                + ", which takes a "
                + types[i].getName());
      }
    }
  }

  private void requireReturnable(ThriftInterceptor interceptor, @Nullable Object result) {
    Class<?> type = x.method.getReturnType();
    if (type != void.class && !fits(type, result)) {
      throw new IllegalStateException(
          "interceptor "
              + interceptor
              + " returned a "
              + describe(result)
              + " from "
              + name()
              + ", which returns "
              + type.getName());
    }
  }

  private static boolean fits(Class<?> type, @Nullable Object value) {
    if (value == null) {
      return !type.isPrimitive();
    }
    return type.isPrimitive()
        ? java.lang.invoke.MethodType.methodType(type).wrap().returnType().isInstance(value)
        : type.isInstance(value);
  }

  private static String describe(@Nullable Object value) {
    return value == null ? "null" : value.getClass().getName();
  }

  private String name() {
    return x.method.getDeclaringClass().getSimpleName() + "." + x.method.getName();
  }
}
