package dev.switchboard.lb.http;

import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.ServiceInstance;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.function.Function;

/**
 * The chain of one attempt (OkHttp's {@code RealInterceptorChain}): link {@code index} calls
 * interceptor {@code index} with link {@code index + 1}; the link past the last interceptor sends
 * the request through {@code transport}. Not thread-safe; one per attempt and link.
 */
final class InterceptorChain implements Interceptor.Chain {
  private final List<Interceptor> interceptors;
  private final int index;
  private final HttpRequest request;
  private final String service;
  private final Endpoint endpoint;
  private final int attempt;
  private final Function<HttpRequest, CompletableFuture<HttpResponse<?>>> transport;
  private boolean proceeded;

  InterceptorChain(
      List<Interceptor> interceptors,
      int index,
      HttpRequest request,
      String service,
      Endpoint endpoint,
      int attempt,
      Function<HttpRequest, CompletableFuture<HttpResponse<?>>> transport) {
    this.interceptors = interceptors;
    this.index = index;
    this.request = request;
    this.service = service;
    this.endpoint = endpoint;
    this.attempt = attempt;
    this.transport = transport;
  }

  /** Runs the whole chain from the first interceptor; never throws, fails the future instead. */
  static CompletableFuture<HttpResponse<?>> run(
      List<Interceptor> interceptors,
      HttpRequest request,
      String service,
      Endpoint endpoint,
      int attempt,
      Function<HttpRequest, CompletableFuture<HttpResponse<?>>> transport) {
    try {
      return new InterceptorChain(interceptors, 0, request, service, endpoint, attempt, transport)
          .proceed(request);
    } catch (RuntimeException | Error e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public HttpRequest request() {
    return request;
  }

  @Override
  public String service() {
    return service;
  }

  @Override
  public Endpoint endpoint() {
    return endpoint;
  }

  @Override
  public ServiceInstance instance() {
    return endpoint.instance();
  }

  @Override
  public int attempt() {
    return attempt;
  }

  @Override
  public CompletableFuture<HttpResponse<?>> proceed(HttpRequest next) {
    Objects.requireNonNull(next, "request");
    String caller = index == 0 ? "the client" : "interceptor " + interceptors.get(index - 1);
    if (proceeded) {
      throw new IllegalStateException(caller + " called proceed() twice in one attempt");
    }
    proceeded = true;
    if (!sameEndpoint(next.uri(), request.uri())) {
      throw new IllegalStateException(
          caller
              + " must keep the picked endpoint "
              + request.uri().getScheme()
              + "://"
              + endpoint.address()
              + " but proceeded to "
              + next.uri());
    }
    if (index == interceptors.size()) {
      return transport.apply(next);
    }
    Interceptor interceptor = interceptors.get(index);
    CompletableFuture<HttpResponse<?>> response =
        interceptor.intercept(
            new InterceptorChain(
                interceptors, index + 1, next, service, endpoint, attempt, transport));
    if (response == null) {
      throw new NullPointerException("interceptor " + interceptor + " returned null");
    }
    return response;
  }

  private static boolean sameEndpoint(URI a, URI b) {
    return a.getScheme().equalsIgnoreCase(b.getScheme())
        && Objects.equals(a.getHost(), b.getHost())
        && a.getPort() == b.getPort();
  }
}
