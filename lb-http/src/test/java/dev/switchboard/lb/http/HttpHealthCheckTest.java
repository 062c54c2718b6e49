package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.instances;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.switchboard.lb.ActiveHealthCheck;
import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.ServiceInstance;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class HttpHealthCheckTest {
  private static final Duration TIMEOUT = Duration.ofMillis(500);

  @Test
  void healthyOn2xx_failingOnOtherStatuses() {
    try (Backend backend = Backend.start("a")) {
      HttpHealthCheck check = HttpHealthCheck.of("/health");

      assertThat(check.isHealthy(backend.instance(), TIMEOUT)).isTrue();
      backend.healthy = false;
      assertThat(check.isHealthy(backend.instance(), TIMEOUT)).isFalse();
    }
  }

  @Test
  void probesTheConfiguredPath() throws Exception {
    AtomicReference<String> probed = new AtomicReference<>();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/",
        exchange -> {
          probed.set(exchange.getRequestMethod() + " " + exchange.getRequestURI());
          exchange.sendResponseHeaders(204, -1);
          exchange.close();
        });
    server.start();
    try {
      ServiceInstance instance =
          ServiceInstance.builder("echo", "127.0.0.1", server.getAddress().getPort()).build();

      assertThat(HttpHealthCheck.of("/ready?deep=1").isHealthy(instance, TIMEOUT)).isTrue();
      assertThat(probed).hasValue("GET /ready?deep=1");
    } finally {
      server.stop(0);
    }
  }

  @Test
  void failsWhenNothingListens_orTheAnswerIsLate() throws Exception {
    HttpHealthCheck check = HttpHealthCheck.of("/health");
    assertThat(check.isHealthy(Fixtures.deadInstance("dead"), TIMEOUT)).isFalse();

    CountDownLatch release = new CountDownLatch(1);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.createContext(
        "/health",
        exchange -> {
          try {
            release.await(10, TimeUnit.SECONDS); // a deliberately hung health endpoint
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    server.start();
    try {
      ServiceInstance hung =
          ServiceInstance.builder("echo", "127.0.0.1", server.getAddress().getPort()).build();
      long start = System.nanoTime();

      assertThat(check.isHealthy(hung, Duration.ofMillis(200))).isFalse();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(2_000);
    } finally {
      release.countDown();
      server.stop(0);
    }
  }

  @Test
  void badPath_isRejected() {
    assertThatThrownBy(() -> HttpHealthCheck.of("health"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("must start with '/'");
    assertThatThrownBy(() -> HttpHealthCheck.of("/he alth"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not a valid URI path");
  }

  @Test
  void backendFailingItsCheck_getsNoTraffic_andReturnsWhenItPasses() throws Exception {
    Backend a = Backend.start("a");
    Backend b = Backend.start("b");
    Backend c = Backend.start("c");
    ActiveHealthCheck check =
        new ActiveHealthCheck(
            HttpHealthCheck.of("/health"), Duration.ofMillis(100), Duration.ofMillis(100), 1, 2);
    // No panic mode: a slow probe of a or c must not spread traffic back onto b.
    try (Cluster cluster =
        started(
            cluster(BalancingPolicy.roundRobin(), instances(a, b, c))
                .healthCheck(check)
                .panicThreshold(0),
            3)) {
      LoadBalancedHttpClient client =
          LoadBalancedHttpClient.builder().httpClient(Fixtures.http()).cluster(cluster).build();

      b.healthy = false;
      await()
          .atMost(5, TimeUnit.SECONDS)
          .until(
              () ->
                  endpoint(cluster, "b").eligibility() == Eligibility.FAILING_HEALTH_CHECK
                      && !endpoint(cluster, "b").receivesTraffic());
      int before = b.requests.get();
      for (int i = 0; i < 30; i++) {
        assertThat(client.send(request("/x").build(), BodyHandlers.ofString()).statusCode())
            .isEqualTo(200);
      }
      assertThat(b.requests.get()).isEqualTo(before);
      assertThat(a.requests.get() + c.requests.get()).isGreaterThanOrEqualTo(30);

      b.healthy = true;
      await().atMost(5, TimeUnit.SECONDS).until(() -> endpoint(cluster, "b").receivesTraffic());
      Map<String, Integer> spread = new java.util.HashMap<>();
      for (int i = 0; i < 30; i++) {
        spread.merge(
            client.send(request("/x").build(), BodyHandlers.ofString()).body(), 1, Integer::sum);
      }
      assertThat(spread.get("b")).isGreaterThanOrEqualTo(5); // 10 while all three stay healthy
    } finally {
      a.close();
      b.close();
      c.close();
    }
  }
}
