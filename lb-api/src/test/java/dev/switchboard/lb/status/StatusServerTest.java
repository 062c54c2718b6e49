package dev.switchboard.lb.status;

import static dev.switchboard.lb.status.StatusFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.StaticRegistry;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class StatusServerTest {
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  private HttpResponse<String> get(URI uri) throws IOException, InterruptedException {
    return client.send(
        HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private static List<String> statusThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.equals("switchboard-status") || n.startsWith("HTTP-Dispatcher"))
        .toList();
  }

  @Test
  void serves_jsonAndHtml_overRealHttp_onLoopback() throws Exception {
    StaticRegistry registry = StaticRegistry.of(instance(9001, "zone-a"), instance(9002, "zone-b"));
    try (Cluster cluster = StatusFixture.cluster(registry);
        StatusServer server = StatusServer.start(ClusterStatus.of(cluster), 0)) {
      StatusFixture.eject(cluster, "127.0.0.1:9002");

      assertThat(server.uri().getScheme()).isEqualTo("http");
      assertThat(server.uri().getHost()).isEqualTo("127.0.0.1");
      assertThat(server.uri().getPort()).isPositive();
      assertThat(server.address().getAddress().isLoopbackAddress()).isTrue();

      HttpResponse<String> json = get(server.uri().resolve("/status.json"));
      assertThat(json.statusCode()).isEqualTo(200);
      assertThat(json.headers().firstValue("Content-Type"))
          .hasValue("application/json; charset=utf-8");
      List<Map<String, Object>> clusters = ClusterStatusTest.clusters(json.body());
      ClusterStatusTest.assertSchema(clusters);
      assertThat(ClusterStatusTest.endpoints(clusters.get(0)))
          .extracting(e -> e.get("address") + " " + e.get("eligibility"))
          .containsExactly("127.0.0.1:9001 ELIGIBLE", "127.0.0.1:9002 EJECTED");

      HttpResponse<String> html = get(server.uri());
      assertThat(html.statusCode()).isEqualTo(200);
      assertThat(html.headers().firstValue("Content-Type")).hasValue("text/html; charset=utf-8");
      assertThat(html.body())
          .contains("127.0.0.1:9001", "127.0.0.1:9002", "data-eligibility=\"EJECTED\"");

      assertThat(get(server.uri().resolve("/nope")).statusCode()).isEqualTo(404);
      HttpResponse<String> post =
          client.send(
              HttpRequest.newBuilder(server.uri().resolve("/status.json"))
                  .POST(HttpRequest.BodyPublishers.ofString("x"))
                  .build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(post.statusCode()).isEqualTo(405);
    }
  }

  @Test
  void close_stopsListening_andLeavesNoThread() throws Exception {
    StatusServer server = StatusServer.start(ClusterStatus.ofSnapshots(List::of), 0);
    URI uri = server.uri();
    assertThat(get(uri.resolve("/status.json")).body()).isEqualTo("{\"clusters\":[]}");
    assertThat(statusThreads()).isNotEmpty();

    server.close();
    server.close(); // idempotent

    await().atMost(Duration.ofSeconds(10)).until(() -> statusThreads().isEmpty());
    assertThatThrownBy(() -> get(uri)).isInstanceOf(ConnectException.class);
  }

  @Test
  void start_onAnExplicitAddress_bindsThere() throws Exception {
    InetSocketAddress loopback = new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    try (StatusServer server = StatusServer.start(ClusterStatus.ofSnapshots(List::of), loopback)) {
      assertThat(get(server.uri()).body()).contains("No clusters.");
    }
  }
}
