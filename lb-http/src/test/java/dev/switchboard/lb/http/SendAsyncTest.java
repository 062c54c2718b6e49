package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.cluster;
import static dev.switchboard.lb.http.Fixtures.endpoint;
import static dev.switchboard.lb.http.Fixtures.instances;
import static dev.switchboard.lb.http.Fixtures.request;
import static dev.switchboard.lb.http.Fixtures.started;
import static dev.switchboard.lb.http.Fixtures.totalInFlight;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.NoHealthyEndpointException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import dev.switchboard.lb.StaticRegistry;
import java.io.IOException;
import java.net.http.HttpRequest.BodyPublishers;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** The non-blocking path: accounting, retries, deadlines and cancellation. */
class SendAsyncTest {

  private static LoadBalancedHttpClient client(Cluster cluster) {
    return LoadBalancedHttpClient.builder().httpClient(Fixtures.http()).cluster(cluster).build();
  }

  private static Backend.Responder gated(CountDownLatch gate) {
    return (exchange, backend) -> {
      try {
        gate.await(20, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      Backend.ok(exchange, backend);
    };
  }

  @Test
  void callBeforeTheRegistryAnswers_doesNotBlockTheCaller_andIsSentOnceMembersArrive()
      throws Exception {
    Backend a = Backend.start("a");
    AtomicReference<MembershipListener> watcher = new AtomicReference<>();
    ServiceRegistry late =
        new ServiceRegistry() {
          @Override
          public Registration register(ServiceInstance instance) {
            throw new UnsupportedOperationException();
          }

          @Override
          public Subscription watch(String service, MembershipListener listener) {
            watcher.set(listener); // answers only when the test says so
            return () -> {};
          }

          @Override
          public void close() {}
        };
    try (Cluster cluster =
        Cluster.builder(Backend.SERVICE).registry(late).updateDebounce(Duration.ZERO).build()) {
      LoadBalancedHttpClient client = client(cluster);

      // Returns at once, without a lease: the call waits for the registry off this thread.
      CompletableFuture<HttpResponse<String>> response =
          client.sendAsync(request("/early").build(), BodyHandlers.ofString());
      assertThat(response).isNotDone();
      assertThat(cluster.isReady()).isFalse();

      watcher.get().onMembers(List.of(a.instance()));

      assertThat(response.get(10, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThat(a.requests.get()).isEqualTo(1);
    }
  }

  @Test
  void thousandConcurrentCalls_areAccountedPerBackend_andInFlightReturnsToZero() throws Exception {
    Backend a = Backend.start("a", 32);
    Backend b = Backend.start("b", 32);
    Backend c = Backend.start("c", 32);
    CountDownLatch gate = new CountDownLatch(1);
    for (Backend x : List.of(a, b, c)) {
      x.responder = gated(gate);
    }
    try (Cluster cluster =
        started(cluster(BalancingPolicy.leastConnections(), instances(a, b, c)), 3)) {
      LoadBalancedHttpClient client = client(cluster);
      int calls = 1000;
      List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        futures.add(client.sendAsync(request("/n/" + i).build(), BodyHandlers.ofString()));
      }

      // Every call holds its endpoint until a response comes: all 1,000 are in flight now.
      assertThat(totalInFlight(cluster)).isEqualTo(calls);
      gate.countDown();
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(60, TimeUnit.SECONDS);

      Map<String, Integer> byBody = new HashMap<>();
      for (CompletableFuture<HttpResponse<String>> f : futures) {
        HttpResponse<String> r = f.join();
        assertThat(r.statusCode()).isEqualTo(200);
        byBody.merge(r.body(), 1, Integer::sum);
      }
      assertThat(totalInFlight(cluster)).isZero();
      for (Backend x : List.of(a, b, c)) {
        assertThat(byBody.get(x.name)).isEqualTo(x.requests.get());
        assertThat(endpoint(cluster, x.name).calls()).isEqualTo(x.requests.get());
        assertThat(x.requests.get()).isBetween(250, 420); // least connections spreads the load
      }
      assertThat(a.requests.get() + b.requests.get() + c.requests.get()).isEqualTo(calls);
    } finally {
      gate.countDown();
      a.close();
      b.close();
      c.close();
    }
  }

  @Test
  void retriesElsewhere_getAfterConnectFailure_butNotPostAfterSend() throws Exception {
    try (Backend live = Backend.start("live");
        BlackHole hole = new BlackHole();
        Cluster cluster =
            started(
                cluster(
                        BalancingPolicy.roundRobin(),
                        live.instance(),
                        Fixtures.deadInstance("dead"),
                        ServiceInstance.builder(Backend.SERVICE, "127.0.0.1", hole.port())
                            .id("hole")
                            .build())
                    .outlierDetection(Fixtures.noEjection())
                    // The GETs open the dead and the hole's breakers; panic mode no longer
                    // overrides open breakers, so keep them closed for the POSTs to reach the hole.
                    .disableCircuitBreaker(),
                3)) {
      LoadBalancedHttpClient client = client(cluster);
      List<CompletableFuture<HttpResponse<String>>> gets = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        gets.add(client.sendAsync(request("/g").build(), BodyHandlers.ofString()));
      }
      for (CompletableFuture<HttpResponse<String>> g : gets) {
        assertThat(g.get(20, TimeUnit.SECONDS).body()).isEqualTo("live");
      }

      int postFailures = 0;
      for (int i = 0; i < 9; i++) {
        try {
          client
              .sendAsync(
                  request("/p").POST(BodyPublishers.ofString("x")).build(), BodyHandlers.ofString())
              .get(20, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
          assertThat(e.getCause()).isInstanceOf(IOException.class);
          postFailures++;
        }
      }
      // A POST that reached the black hole fails; one refused by "dead" went elsewhere.
      long postsAtLive = live.received().stream().filter(r -> r.method().equals("POST")).count();
      assertThat(postsAtLive + postFailures).isEqualTo(9);
      assertThat(hole.requests.get()).isGreaterThanOrEqualTo(postFailures);
      assertThat(postFailures).isPositive();
      assertThat(totalInFlight(cluster)).isZero();
    }
  }

  @Test
  void cancel_abortsTheAttempt_andReleasesItsEndpointAtOnce() throws Exception {
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    try (Backend slow = Backend.start("slow");
        Cluster cluster = started(cluster(BalancingPolicy.roundRobin(), slow.instance()), 1)) {
      slow.responder =
          (exchange, backend) -> {
            arrived.countDown();
            gated(release).respond(exchange, backend);
          };
      CompletableFuture<HttpResponse<String>> f =
          client(cluster).sendAsync(request("/slow").build(), BodyHandlers.ofString());
      assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
      assertThat(totalInFlight(cluster)).isEqualTo(1);

      assertThat(f.cancel(true)).isTrue();

      assertThat(totalInFlight(cluster)).isZero(); // released by cancel() itself
      assertThat(endpoint(cluster, "slow").calls()).isZero(); // CANCELLED teaches nothing
      assertThat(endpoint(cluster, "slow").failures()).isZero();
    } finally {
      release.countDown();
    }
  }

  @Test
  void cancelRacingCompletion_neverLeaksALease() throws Exception {
    ExecutorService cancellers = Executors.newFixedThreadPool(4);
    try (Backend a = Backend.start("a");
        Backend b = Backend.start("b");
        Cluster cluster =
            started(cluster(BalancingPolicy.leastConnections(), instances(a, b)), 2)) {
      LoadBalancedHttpClient client = client(cluster);
      List<CompletableFuture<HttpResponse<String>>> futures = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        CompletableFuture<HttpResponse<String>> f =
            client.sendAsync(request("/r").build(), BodyHandlers.ofString());
        futures.add(f);
        if (i % 3 == 0) {
          f.cancel(true);
        } else if (i % 3 == 1) {
          cancellers.execute(() -> f.cancel(true));
        }
      }
      for (CompletableFuture<HttpResponse<String>> f : futures) {
        try {
          assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
        } catch (CancellationException expected) {
          // cancelled before or while it ran
        }
      }

      await().atMost(5, TimeUnit.SECONDS).until(() -> totalInFlight(cluster) == 0);
      long completed = futures.stream().filter(f -> !f.isCancelled()).count();
      assertThat(completed).isGreaterThanOrEqualTo(100);
      assertThat(endpoint(cluster, "a").failures() + endpoint(cluster, "b").failures()).isZero();
    } finally {
      cancellers.shutdownNow();
    }
  }

  @Test
  void deadline_failsTheFutureWithATimeout() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (Backend slow = Backend.start("slow");
        Cluster cluster = started(cluster(BalancingPolicy.roundRobin(), slow.instance()), 1)) {
      slow.responder = gated(release);
      CompletableFuture<HttpResponse<String>> f =
          client(cluster)
              .sendAsync(
                  request("/slow").timeout(Duration.ofMillis(200)).build(),
                  BodyHandlers.ofString());

      ExecutionException e =
          org.junit.jupiter.api.Assertions.assertThrows(
              ExecutionException.class, () -> f.get(10, TimeUnit.SECONDS));
      assertThat(e.getCause()).isInstanceOf(HttpTimeoutException.class);
      assertThat(totalInFlight(cluster)).isZero();
      assertThat(slow.requests).hasValue(1);
    } finally {
      release.countDown();
    }
  }

  @Test
  void noEndpoint_failsTheFuture() throws Exception {
    try (Cluster empty =
        Cluster.builder(Backend.SERVICE)
            .registry(new StaticRegistry())
            .updateDebounce(Duration.ZERO)
            .build()) {
      CompletableFuture<HttpResponse<String>> f =
          client(empty).sendAsync(request("/x").build(), BodyHandlers.ofString());

      ExecutionException e =
          org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class, f::get);
      assertThat(e.getCause())
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("'echo'");
    }
  }
}
