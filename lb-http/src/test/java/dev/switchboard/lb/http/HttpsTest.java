package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.file.Path;
import java.time.Duration;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** HTTPS endpoints with a self-signed certificate that only the test's SSLContext trusts. */
class HttpsTest {
  @TempDir static Path dir;
  private static Fixtures.SelfSigned tls;
  private static Backend secure;
  private static Cluster cluster;

  @BeforeAll
  static void start() throws Exception {
    tls = Fixtures.SelfSigned.generate(dir);
    secure = Backend.startHttps("secure", tls.server);
    cluster = started(cluster(BalancingPolicy.roundRobin(), secure.instance()), 1);
  }

  @AfterAll
  static void stop() {
    cluster.close();
    secure.close();
  }

  private static HttpClient trusting() {
    return HttpClient.newBuilder()
        .sslContext(tls.client)
        .connectTimeout(Duration.ofSeconds(2))
        .build();
  }

  @Test
  void httpsInstance_isCalledOverTls_withTheTestsTrust() throws Exception {
    LoadBalancedHttpClient client =
        LoadBalancedHttpClient.builder().httpClient(trusting()).cluster(cluster).build();

    HttpResponse<String> response =
        client.send(request("/secret").build(), BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(200);
    assertThat(response.body()).isEqualTo("secure");
    assertThat(response.uri().getScheme()).isEqualTo("https");
    assertThat(response.sslSession()).isPresent();
  }

  @Test
  void httpsAddress_isHonouredToo() throws Exception {
    LoadBalancedHttpClient client =
        LoadBalancedHttpClient.builder().httpClient(trusting()).cluster(cluster).build();
    HttpRequest request = HttpRequest.newBuilder(URI.create("https://echo/secret")).build();

    assertThat(client.send(request, BodyHandlers.ofString()).body()).isEqualTo("secure");
  }

  @Test
  void untrustedCertificate_isAConnectFailure_thatNeverReachesTheServer() throws Exception {
    LoadBalancedHttpClient client =
        LoadBalancedHttpClient.builder()
            .httpClient(HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build())
            .cluster(cluster)
            .build();
    int before = secure.requests.get();
    long failuresBefore = endpoint(cluster, "secure").failures();

    assertThatThrownBy(() -> client.send(request("/secret").build(), BodyHandlers.ofString()))
        .isInstanceOf(SSLHandshakeException.class)
        .hasMessageContaining("PKIX");
    assertThat(secure.requests).hasValue(before);
    assertThat(endpoint(cluster, "secure").failures()).isGreaterThan(failuresBefore);
  }

  @Test
  void healthCheck_overHttps() {
    assertThat(
            HttpHealthCheck.of("/health", trusting())
                .isHealthy(secure.instance(), Duration.ofSeconds(2)))
        .isTrue();
    assertThat(HttpHealthCheck.of("/health").isHealthy(secure.instance(), Duration.ofSeconds(2)))
        .isFalse(); // the default trust store does not know the certificate
  }
}
