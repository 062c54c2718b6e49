package dev.switchboard.lb.samples;

import com.sun.net.httpserver.HttpServer;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.http.HttpService;
import dev.switchboard.lb.http.HttpServiceRegistration;
import dev.switchboard.lb.http.LoadBalancedHttpClient;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;

/** The README's HTTP example, compiled so it never rots. */
public final class HttpClientExample {
  private HttpClientExample() {}

  /**
   * Sends one GET to whichever instance of "echo" the cluster picks, retrying elsewhere if safe.
   */
  public static String getOnce(ServiceRegistry registry) throws IOException, InterruptedException {
    // README: http-example
    try (Cluster cluster = Cluster.builder("echo").registry(registry).build()) {
      LoadBalancedHttpClient client = LoadBalancedHttpClient.builder().cluster(cluster).build();
      HttpRequest request = LoadBalancedHttpClient.newRequest("lb://echo/hello?name=you").build();
      HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
      return response.body();
    }
    // README: end
  }

  /** The handler the demo server runs; the annotation names the service it registers as. */
  @HttpService(name = "echo", zone = "a")
  static final class EchoHandler {}

  /** Starts one echo server, registers it, calls it through the balancer, then drains it. */
  public static void main(String[] args) throws IOException, InterruptedException {
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          byte[] body = ("hello from " + server.getAddress()).getBytes(StandardCharsets.UTF_8);
          exchange.sendResponseHeaders(200, body.length);
          exchange.getResponseBody().write(body);
          exchange.close();
        });
    server.start();
    StaticRegistry registry = new StaticRegistry();
    try (HttpServiceRegistration registration =
        HttpServiceRegistration.builder(registry, EchoHandler.class).server(server).register()) {
      System.out.println(getOnce(registry));
    }
  }
}
