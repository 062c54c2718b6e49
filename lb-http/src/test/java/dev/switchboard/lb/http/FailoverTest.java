package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.instances;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ServiceInstance;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** What is retried, where, and what never is. */
class FailoverTest {

  private static LoadBalancedHttpClient client(Cluster cluster) {
    return LoadBalancedHttpClient.builder().httpClient(Fixtures.http()).cluster(cluster).build();
  }

  private static ServiceInstance blackHoleInstance(BlackHole hole) {
    return ServiceInstance.builder(Backend.SERVICE, "127.0.0.1", hole.port()).id("hole").build();
  }

  @Test
  void threeBackends_oneStoppedMidLoad_noGetFails() throws Exception {
    Backend a = Backend.start("a");
    Backend b = Backend.start("b");
    Backend c = Backend.start("c");
    int threads = 8;
    int perThread = 150;
    CountDownLatch halfway = new CountDownLatch(threads * perThread / 3);
    b.responder =
        (exchange, backend) -> {
          halfway.countDown();
          Backend.ok(exchange, backend);
        };
    a.responder = b.responder;
    c.responder = b.responder;
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    try (Cluster cluster =
        started(cluster(BalancingPolicy.leastConnections(), instances(a, b, c)), 3)) {
      LoadBalancedHttpClient client = client(cluster);
      AtomicInteger failures = new AtomicInteger();
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        workers.add(
            pool.submit(
                () -> {
                  for (int i = 0; i < perThread; i++) {
                    try {
                      HttpResponse<String> r =
                          client.send(request("/load").build(), BodyHandlers.ofString());
                      if (r.statusCode() != 200) {
                        failures.incrementAndGet();
                      }
                    } catch (IOException | RuntimeException e) {
                      failures.incrementAndGet();
                    } catch (InterruptedException e) {
                      return;
                    }
                  }
                }));
      }
      assertThat(halfway.await(30, TimeUnit.SECONDS)).isTrue();
      b.stop();
      int servedByB = b.requests.get();
      for (Future<?> w : workers) {
        w.get(60, TimeUnit.SECONDS);
      }

      assertThat(failures).hasValue(0);
      assertThat(a.requests.get() + c.requests.get() + b.requests.get())
          .isGreaterThanOrEqualTo(threads * perThread);
      // After the stop only exchanges already in progress could still be counted (one per worker).
      assertThat(b.requests.get() - servedByB).isLessThanOrEqualTo(threads);
      assertThat(servedByB).isPositive();
    } finally {
      pool.shutdownNow();
      a.close();
      c.close();
    }
  }

  @Test
  void post_isNeverRetriedAfterItWasSent() throws Exception {
    try (Backend ok = Backend.start("ok");
        BlackHole hole = new BlackHole();
        Cluster cluster =
            started(
                cluster(BalancingPolicy.roundRobin(), ok.instance(), blackHoleInstance(hole))
                    .outlierDetection(Fixtures.noEjection()),
                2)) {
      LoadBalancedHttpClient client = client(cluster);
      int calls = 20;
      int failed = 0;
      for (int i = 0; i < calls; i++) {
        HttpRequest post = request("/orders").POST(BodyPublishers.ofString("order " + i)).build();
        try {
          assertThat(client.send(post, BodyHandlers.ofString()).statusCode()).isEqualTo(200);
        } catch (IOException e) {
          failed++;
        }
      }

      assertThat(failed).isPositive();
      assertThat(hole.requests).hasValue(failed); // each failed POST was sent exactly once...
      assertThat(ok.requests).hasValue(calls - failed); // ...and never again elsewhere
    }
  }

  @Test
  void get_afterItWasSent_isRetriedElsewhere() throws Exception {
    try (Backend ok = Backend.start("ok");
        BlackHole hole = new BlackHole();
        Cluster cluster =
            started(
                cluster(BalancingPolicy.roundRobin(), ok.instance(), blackHoleInstance(hole))
                    .outlierDetection(Fixtures.noEjection()),
                2)) {
      LoadBalancedHttpClient client = client(cluster);
      for (int i = 0; i < 20; i++) {
        assertThat(client.send(request("/x").build(), BodyHandlers.ofString()).body())
            .isEqualTo("ok");
      }

      assertThat(hole.requests.get()).isPositive();
      assertThat(ok.requests).hasValue(20);
      assertThat(endpoint(cluster, "hole").failures()).isPositive();
    }
  }

  @Test
  void post_markedIdempotent_isRetried_andTheMarkerIsNotSent() throws Exception {
    try (Backend ok = Backend.start("ok");
        BlackHole hole = new BlackHole();
        Cluster cluster =
            started(
                cluster(BalancingPolicy.roundRobin(), ok.instance(), blackHoleInstance(hole))
                    .outlierDetection(Fixtures.noEjection()),
                2)) {
      LoadBalancedHttpClient client = client(cluster);
      for (int i = 0; i < 10; i++) {
        HttpRequest post =
            LoadBalancedHttpClient.idempotent(
                    request("/put-like").POST(BodyPublishers.ofString("k")))
                .build();
        assertThat(client.send(post, BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      }

      assertThat(hole.requests.get()).isPositive();
      assertThat(ok.requests).hasValue(10);
      assertThat(ok.received())
          .allSatisfy(
              r ->
                  assertThat(r.headers().containsKey(LoadBalancedHttpClient.IDEMPOTENT_HEADER))
                      .isFalse());
    }
  }

  @Test
  void post_connectFailure_isRetriedElsewhere() throws Exception {
    try (Backend ok = Backend.start("ok");
        Cluster cluster =
            started(
                cluster(BalancingPolicy.roundRobin(), ok.instance(), Fixtures.deadInstance("dead"))
                    .outlierDetection(Fixtures.noEjection()),
                2)) {
      LoadBalancedHttpClient client = client(cluster);
      for (int i = 0; i < 10; i++) {
        HttpRequest post = request("/orders").POST(BodyPublishers.ofString("o" + i)).build();
        assertThat(client.send(post, BodyHandlers.ofString()).statusCode()).isEqualTo(200);
      }

      assertThat(ok.requests).hasValue(10);
      assertThat(endpoint(cluster, "dead").failures()).isPositive();
    }
  }

  @Test
  void bodyThatCannotBeReplayed_isNotRetried_andTheFailureSaysWhy() throws Exception {
    try (Cluster cluster =
        started(
            cluster(BalancingPolicy.roundRobin(), Fixtures.deadInstance("dead"))
                .outlierDetection(Fixtures.noEjection()),
            1)) {
      LoadBalancedHttpClient client = client(cluster);
      HttpRequest put =
          request("/upload")
              .PUT(
                  BodyPublishers.ofInputStream(
                      () -> new ByteArrayInputStream("data".getBytes(StandardCharsets.UTF_8))))
              .build();

      assertThatThrownBy(() -> client.send(put, BodyHandlers.ofString()))
          .isInstanceOf(java.net.ConnectException.class)
          .satisfies(
              e ->
                  assertThat(e.getSuppressed())
                      .anySatisfy(
                          s ->
                              assertThat(s)
                                  .hasMessageContaining("InputStreamPublisher")
                                  .hasMessageContaining("cannot be replayed")));
      assertThat(endpoint(cluster, "dead").calls()).isEqualTo(1); // one attempt only
    }
  }

  @Test
  void status503_getIsRetriedElsewhere_postGetsThe503() throws Exception {
    try (Backend busy = Backend.start("busy");
        Backend ok = Backend.start("ok");
        Cluster cluster =
            started(
                cluster(BalancingPolicy.roundRobin(), busy.instance(), ok.instance())
                    .outlierDetection(Fixtures.noEjection()),
                2)) {
      busy.responder = Backend.status(503, Map.of());
      LoadBalancedHttpClient client = client(cluster);
      int posts503 = 0;
      for (int i = 0; i < 10; i++) {
        assertThat(client.send(request("/g").build(), BodyHandlers.ofString()).statusCode())
            .isEqualTo(200);
        HttpResponse<String> post =
            client.send(
                request("/p").POST(BodyPublishers.ofString("x")).build(), BodyHandlers.ofString());
        if (post.statusCode() == 503) {
          posts503++;
        }
      }

      assertThat(posts503).isPositive();
      long postsAtBusy = busy.received().stream().filter(r -> r.method().equals("POST")).count();
      assertThat(postsAtBusy).isEqualTo(posts503);
      assertThat(ok.received().stream().filter(r -> r.method().equals("GET")).count())
          .isEqualTo(10);
    }
  }
}
