package dev.switchboard.lb.http;

import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;

/**
 * A JDK {@code HttpServer} in its own JVM for network fault tests: listens on the address given (a
 * network lab host's), answers every request 200 with {@code host:port}, prints {@code READY
 * <port>} and serves until killed.
 */
public final class HttpServerMain {
  private HttpServerMain() {}

  public static void main(String[] args) throws Exception {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getByName(args[0]), 0), 2048);
    byte[] body =
        (args[0] + ":" + server.getAddress().getPort()).getBytes(StandardCharsets.US_ASCII);
    server.createContext(
        "/",
        exchange -> {
          exchange.getRequestBody().readAllBytes();
          exchange.sendResponseHeaders(200, body.length);
          try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
          }
        });
    server.setExecutor(Executors.newFixedThreadPool(16));
    server.start();
    System.out.println("READY " + server.getAddress().getPort());
    System.out.flush();
    new CountDownLatch(1).await(); // until killed
  }
}
