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
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The interceptor chain: order, per attempt, knowing the endpoint, and its rules. */
class InterceptorTest {
  private Backend backend;
  private Cluster cluster;

  @BeforeEach
  void setUp() throws Exception {
    backend = Backend.start("live");
    cluster =
        started(
            cluster(BalancingPolicy.roundRobin(), backend.instance(), Fixtures.deadInstance("dead"))
                .outlierDetection(Fixtures.noEjection()),
            2);
  }

  @AfterEach
  void tearDown() {
    cluster.close();
    backend.close();
  }

  private LoadBalancedHttpClient client(Interceptor... interceptors) {
    LoadBalancedHttpClient.Builder b =
        LoadBalancedHttpClient.builder().httpClient(Fixtures.http()).cluster(cluster);
    for (Interceptor i : interceptors) {
      b.interceptor(i);
    }
    return b.build();
  }

  private static Interceptor header(String name, String value) {
    return chain ->
        chain.proceed(
            HttpRequest.newBuilder(chain.request(), (n, v) -> true).header(name, value).build());
  }

  @Test
  void interceptors_runInOrder_oncePerAttempt_seeingThePickedEndpoint() throws Exception {
    List<String> seen = new CopyOnWriteArrayList<>();
    Interceptor recorder =
        chain -> {
          seen.add(chain.attempt() + " " + chain.instance().id() + " " + chain.request().uri());
          return chain.proceed(
              HttpRequest.newBuilder(chain.request(), (n, v) -> true)
                  .header("X-Endpoint", chain.endpoint().address())
                  .header("X-Order", "second")
                  .build());
        };
    LoadBalancedHttpClient client = client(header("X-Order", "first"), recorder);

    for (int i = 0; i < 6; i++) {
      assertThat(client.send(request("/p?q=1").build(), BodyHandlers.ofString()).body())
          .isEqualTo("live");
    }

    // Every call that picked "dead" first was retried on "live", running the chain again.
    long retried = seen.stream().filter(s -> s.startsWith("2 ")).count();
    assertThat(retried).isPositive();
    assertThat(seen).hasSize(6 + (int) retried);
    assertThat(seen.stream().filter(s -> s.contains(" dead ")).count()).isEqualTo(retried);
    assertThat(seen)
        .allSatisfy(s -> assertThat(s).endsWith("/p?q=1").contains("http://127.0.0.1:"));
    assertThat(backend.received())
        .allSatisfy(
            r -> {
              assertThat(r.headers().getFirst("X-Endpoint")).isEqualTo(backend.address());
              assertThat(r.headers().get("X-Order")).containsExactly("first", "second");
            });
  }

  @Test
  void interceptor_mayAnswerWithoutSending() throws Exception {
    AtomicReference<HttpResponse<?>> cached = new AtomicReference<>();
    LoadBalancedHttpClient client =
        client(
            chain -> {
              HttpResponse<?> hit = cached.get();
              if (hit != null) {
                return CompletableFuture.completedFuture(hit);
              }
              return chain
                  .proceed(chain.request())
                  .thenApply(
                      r -> {
                        cached.set(r);
                        return r;
                      });
            });

    HttpResponse<String> first = client.send(request("/x").build(), BodyHandlers.ofString());
    HttpResponse<String> second = client.send(request("/x").build(), BodyHandlers.ofString());

    assertThat(second).isSameAs(first);
    assertThat(second.body()).isEqualTo("live");
    assertThat(backend.requests).hasValue(1);
  }

  @Test
  void interceptor_thatThrows_failsTheCallWithoutBlamingTheEndpointOrRetrying() {
    LoadBalancedHttpClient client =
        client(
            chain -> {
              throw new IllegalStateException("token service down");
            });

    assertThatThrownBy(() -> client.send(request("/x").build(), BodyHandlers.ofString()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("token service down");
    assertThat(endpoint(cluster, "live").failures() + endpoint(cluster, "dead").failures())
        .isZero();
    assertThat(backend.requests).hasValue(0);
    assertThat(Fixtures.totalInFlight(cluster)).isZero();
  }

  @Test
  void interceptor_mustNotRedirectToAnotherHost() {
    LoadBalancedHttpClient client =
        client(
            chain ->
                chain.proceed(
                    HttpRequest.newBuilder(chain.request(), (n, v) -> true)
                        .uri(URI.create("http://example.com/"))
                        .build()));

    assertThatThrownBy(() -> client.send(request("/x").build(), BodyHandlers.ofString()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("must keep the picked endpoint");
  }

  @Test
  void interceptor_mustNotProceedTwice() {
    LoadBalancedHttpClient client =
        client(
            chain -> {
              chain.proceed(chain.request());
              return chain.proceed(chain.request());
            });

    assertThatThrownBy(() -> client.send(request("/x").build(), BodyHandlers.ofString()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("called proceed() twice");
    assertThat(Fixtures.totalInFlight(cluster)).isZero();
  }

  @Test
  void interceptor_returningNull_isReported() {
    LoadBalancedHttpClient client = client(chain -> (CompletableFuture<HttpResponse<?>>) null);

    assertThatThrownBy(() -> client.send(request("/x").build(), BodyHandlers.ofString()))
        .isInstanceOf(NullPointerException.class)
        .hasMessageContaining("returned null");
  }
}
