package dev.switchboard.lb.http;

import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import dev.switchboard.lb.ServiceInstance;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * A real JDK {@code HttpServer} on 127.0.0.1 and an ephemeral port, for tests: answers 200 with its
 * name unless told otherwise, serves {@code /health} (200 or 503), and records every other request.
 * Thread-safe.
 */
final class Backend implements AutoCloseable {
  static final String SERVICE = "echo";

  /** What a backend does with one request. */
  @FunctionalInterface
  interface Responder {
    void respond(HttpExchange exchange, Backend backend) throws IOException;
  }

  /** One request as the backend received it. */
  record Received(String method, String pathAndQuery, Headers headers, String body) {}

  final String name;
  final RequestTracker tracker = new RequestTracker();
  final AtomicInteger requests = new AtomicInteger();
  final ConcurrentLinkedQueue<Received> received = new ConcurrentLinkedQueue<>();
  volatile Responder responder = Backend::ok;
  volatile boolean healthy = true;
  private final HttpServer server;
  private final ExecutorService executor;
  private final boolean https;

  private Backend(String name, @Nullable SSLContext tls, int threads) {
    this.name = name;
    this.https = tls != null;
    try {
      InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
      if (tls == null) {
        server = HttpServer.create(address, 2048);
      } else {
        HttpsServer s = HttpsServer.create(address, 2048);
        s.setHttpsConfigurator(new HttpsConfigurator(tls));
        server = s;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    executor = Executors.newFixedThreadPool(threads);
    server.setExecutor(executor);
    server.createContext("/health", this::health);
    server.createContext("/", this::handle).getFilters().add(tracker.filter());
    server.start();
  }

  static Backend start(String name) {
    return new Backend(name, null, 16);
  }

  static Backend start(String name, int threads) {
    return new Backend(name, null, threads);
  }

  static Backend startHttps(String name, SSLContext tls) {
    return new Backend(name, tls, 8);
  }

  HttpServer server() {
    return server;
  }

  int port() {
    return server.getAddress().getPort();
  }

  String scheme() {
    return https ? "https" : "http";
  }

  String address() {
    return "127.0.0.1:" + port();
  }

  ServiceInstance instance() {
    return instance(ServiceInstance.DEFAULT_WEIGHT);
  }

  ServiceInstance instance(int weight) {
    return ServiceInstance.builder(SERVICE, "127.0.0.1", port())
        .id(name)
        .weight(weight)
        .metadata(Map.of("scheme", https ? "https" : "http"))
        .build();
  }

  List<Received> received() {
    return List.copyOf(received);
  }

  private void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
      received.add(
          new Received(
              exchange.getRequestMethod(),
              exchange.getRequestURI().toString(),
              exchange.getRequestHeaders(),
              body));
      requests.incrementAndGet();
      responder.respond(exchange, this);
    }
  }

  private void health(HttpExchange exchange) throws IOException {
    try (exchange) {
      exchange.sendResponseHeaders(healthy ? 200 : 503, -1);
    }
  }

  /** 200 with the backend's name as body and in {@code X-Backend}. */
  static void ok(HttpExchange exchange, Backend backend) throws IOException {
    reply(exchange, backend, 200, Map.of());
  }

  /** A responder answering {@code status} with {@code headers}. */
  static Responder status(int status, Map<String, String> headers) {
    return (exchange, backend) -> reply(exchange, backend, status, headers);
  }

  static void reply(HttpExchange exchange, Backend backend, int status, Map<String, String> headers)
      throws IOException {
    byte[] body = backend.name.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("X-Backend", backend.name);
    headers.forEach((k, v) -> exchange.getResponseHeaders().set(k, v));
    exchange.sendResponseHeaders(status, body.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(body);
    }
  }

  /** Stops accepting and closes every connection at once. */
  void stop() {
    server.stop(0);
    executor.shutdownNow();
  }

  @Override
  public void close() {
    stop();
  }

  @Override
  public String toString() {
    return name + "@" + address();
  }
}
