package dev.switchboard.lb.status;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An optional embedded status endpoint on the JDK's {@code com.sun.net.httpserver} server: {@code
 * GET /} serves {@link ClusterStatus#html()} and {@code GET /status.json} serves {@link
 * ClusterStatus#json()}. Nothing listens unless {@link #start} is called; by default it binds to
 * 127.0.0.1 only, since the page shows internal addresses. It runs on two threads of its own (the
 * server's dispatcher and one {@code switchboard-status} handler thread), both stopped by {@link
 * #close}.
 *
 * <pre>{@code
 * try (StatusServer status = StatusServer.start(ClusterStatus.of(cluster), 0)) {
 *   System.out.println("Status page: " + status.uri());
 * }
 * }</pre>
 *
 * <p>Thread-safe.
 */
public final class StatusServer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(StatusServer.class);

  private final HttpServer server;
  private final ExecutorService executor;
  private final URI uri;
  private final AtomicBoolean closed = new AtomicBoolean();

  private StatusServer(HttpServer server, ExecutorService executor) {
    this.server = server;
    this.executor = executor;
    InetSocketAddress bound = server.getAddress();
    String host = bound.getAddress().getHostAddress();
    if (host.indexOf(':') >= 0) {
      host = "[" + host + "]";
    }
    this.uri = URI.create("http://" + host + ":" + bound.getPort() + "/");
  }

  /**
   * Serves {@code status} on 127.0.0.1:{@code port}; port 0 picks a free port (see {@link #uri}).
   *
   * @throws IllegalArgumentException if {@code port} is out of range
   * @throws UncheckedIOException if the port cannot be bound
   */
  public static StatusServer start(ClusterStatus status, int port) {
    return start(status, new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
  }

  /**
   * Serves {@code status} on {@code address}. Binding beyond loopback exposes endpoint addresses
   * and health to whoever can reach it; do so deliberately.
   *
   * @throws UncheckedIOException if the address cannot be bound
   */
  public static StatusServer start(ClusterStatus status, InetSocketAddress address) {
    Objects.requireNonNull(status, "status");
    Objects.requireNonNull(address, "address");
    HttpServer server;
    try {
      server = HttpServer.create(address, 16);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot bind the status endpoint to " + address, e);
    }
    ExecutorService executor =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "switchboard-status");
              t.setDaemon(true);
              return t;
            });
    server.setExecutor(executor);
    server.createContext("/", exchange -> handle(exchange, status));
    server.start();
    StatusServer started = new StatusServer(server, executor);
    logger.info("Status endpoint listening on {}", started.uri);
    return started;
  }

  private static void handle(HttpExchange exchange, ClusterStatus status) throws IOException {
    try {
      String method = exchange.getRequestMethod();
      boolean head = method.equals("HEAD");
      if (!head && !method.equals("GET")) {
        exchange.getResponseHeaders().set("Allow", "GET, HEAD");
        send(exchange, 405, "text/plain", "method not allowed\n", false);
        return;
      }
      String path = exchange.getRequestURI().getPath();
      try {
        switch (path) {
          case "/", "/index.html" -> send(exchange, 200, "text/html", status.html(), head);
          case "/status.json" -> send(exchange, 200, "application/json", status.json(), head);
          default -> send(exchange, 404, "text/plain", "not found\n", head);
        }
      } catch (RuntimeException e) {
        logger.warn("Status endpoint failed to render {}", path, e);
        send(exchange, 500, "text/plain", "status failed: " + e + "\n", head);
      }
    } finally {
      exchange.close();
    }
  }

  private static void send(
      HttpExchange exchange, int code, String type, String body, boolean headOnly)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type + "; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-store");
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    if (headOnly) {
      exchange.sendResponseHeaders(code, -1);
      return;
    }
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  /**
   * The page's address, such as {@code http://127.0.0.1:43125/}; JSON is at {@code status.json}.
   */
  public URI uri() {
    return uri;
  }

  /** The address the server is bound to. */
  public InetSocketAddress address() {
    return server.getAddress();
  }

  /**
   * Stops listening, waits for its threads to end (a request in progress is cut off). Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    server.stop(0);
    executor.shutdownNow();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        logger.warn("Status endpoint handler thread did not stop within 5 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "StatusServer{" + uri + "}";
  }
}
