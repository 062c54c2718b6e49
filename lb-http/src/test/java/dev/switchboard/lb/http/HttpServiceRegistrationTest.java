package dev.switchboard.lb.http;

import static dev.switchboard.lb.http.Fixtures.request;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpContext;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.switchboard.lb.AdvertisedAddress;
import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.StaticRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class HttpServiceRegistrationTest {

  @HttpService(name = "echo", zone = "eu-1a", weight = 250)
  static final class EchoHandler {}

  static final class NotAnnotated {}

  @HttpService(name = " ")
  static final class BlankName {}

  @HttpService(name = "echo", weight = 20_000)
  static final class TooHeavy {}

  @HttpService(name = "echo", weight = -1)
  static final class Negative {}

  /** A registry that cannot be reached: every register call throws. */
  private static final class UnreachableRegistry implements ServiceRegistry {
    @Override
    public Registration register(ServiceInstance instance) {
      throw new RegistryException("connection refused: consul:8500");
    }

    @Override
    public Subscription watch(String service, MembershipListener listener) {
      throw new UnsupportedOperationException("not watched in this test");
    }

    @Override
    public void close() {}
  }

  /** A JDK server that only reports an address: none is bound, nothing listens. */
  private static final class AddressOnlyServer extends HttpServer {
    private final InetSocketAddress address;

    AddressOnlyServer(InetSocketAddress address) {
      this.address = address;
    }

    @Override
    public InetSocketAddress getAddress() {
      return address;
    }

    @Override
    public void bind(InetSocketAddress addr, int backlog) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void start() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void setExecutor(Executor executor) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Executor getExecutor() {
      throw new UnsupportedOperationException();
    }

    @Override
    public void stop(int delay) {}

    @Override
    public HttpContext createContext(String path, HttpHandler handler) {
      throw new UnsupportedOperationException();
    }

    @Override
    public HttpContext createContext(String path) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void removeContext(String path) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void removeContext(HttpContext context) {
      throw new UnsupportedOperationException();
    }
  }

  @Test
  void annotation_missingOrInvalid_failsFastNamingTheClass() {
    StaticRegistry registry = new StaticRegistry();

    assertThatThrownBy(() -> HttpServiceRegistration.builder(registry, NotAnnotated.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(NotAnnotated.class.getName())
        .hasMessageContaining("not annotated with @HttpService");
    assertThatThrownBy(() -> HttpServiceRegistration.builder(registry, BlankName.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(BlankName.class.getName())
        .hasMessageContaining("name must not be blank");
    assertThatThrownBy(() -> HttpServiceRegistration.builder(registry, TooHeavy.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("weight must be between 0 and 10000 but was 20000");
    assertThatThrownBy(() -> HttpServiceRegistration.builder(registry, Negative.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was -1");
  }

  @Test
  void register_takesNameZoneWeightFromTheAnnotation_andAddressFromTheServer() {
    StaticRegistry registry = new StaticRegistry();
    try (Backend backend = Backend.start("s1");
        HttpServiceRegistration registration =
            HttpServiceRegistration.builder(registry, EchoHandler.class)
                .server(backend.server())
                .metadata("version", "1.2")
                .register()) {
      ServiceInstance registered = registry.members("echo").get(0);

      assertThat(registered).isEqualTo(registration.instance());
      assertThat(registered.zone()).isEqualTo("eu-1a");
      assertThat(registered.weight()).isEqualTo(250);
      assertThat(registered.address()).isEqualTo(backend.address());
      assertThat(registered.metadata())
          .containsEntry("scheme", "http")
          .containsEntry("version", "1.2");
    }
    assertThat(registry.members("echo")).isEmpty();
  }

  @Test
  void wildcardServer_registersThisHostsFirstReachableAddress_unlessAdvertiseHostIsSet()
      throws IOException {
    StaticRegistry registry = new StaticRegistry();
    List<AdvertisedAddress.LocalInterface> nics =
        List.of(
            new AdvertisedAddress.LocalInterface(
                "lo", 1, true, true, false, List.of(InetAddress.getByName("127.0.0.1"))),
            new AdvertisedAddress.LocalInterface(
                "eth0", 2, true, false, false, List.of(InetAddress.getByName("10.1.2.3"))));
    AdvertisedAddress.Source interfaces = () -> nics;
    HttpServer wildcard = new AddressOnlyServer(new InetSocketAddress("0.0.0.0", 8080));

    try (HttpServiceRegistration chosen =
            HttpServiceRegistration.builder(registry, "echo")
                .server(wildcard)
                .addressSource(interfaces)
                .id("chosen")
                .register();
        HttpServiceRegistration ipv6Wildcard =
            HttpServiceRegistration.builder(registry, "echo")
                .address("::", 8081)
                .addressSource(interfaces)
                .id("ipv6-wildcard")
                .register();
        HttpServiceRegistration advertised =
            HttpServiceRegistration.builder(registry, "echo")
                .server(wildcard)
                .addressSource(interfaces)
                .advertiseHost("api-7.example")
                .id("advertised")
                .register()) {
      assertThat(chosen.instance().address()).isEqualTo("10.1.2.3:8080");
      assertThat(ipv6Wildcard.instance().address()).isEqualTo("10.1.2.3:8081");
      assertThat(advertised.instance().address()).isEqualTo("api-7.example:8080");
      assertThat(registry.members("echo")).hasSize(3);
    }
  }

  @Test
  void register_registryUnreachable_throwsNamingServiceAndAddress_andLeavesTheServerRunning()
      throws Exception {
    AtomicBoolean stopped = new AtomicBoolean();
    ServiceRegistry unreachable = new UnreachableRegistry();
    try (Backend backend = Backend.start("s1")) {
      HttpServiceRegistration.Builder builder =
          HttpServiceRegistration.builder(unreachable, EchoHandler.class)
              .server(backend.server())
              .onStop(() -> stopped.set(true));

      assertThatThrownBy(builder::register)
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("Service 'echo' at " + backend.address())
          .hasMessageContaining("was not registered")
          .hasMessageContaining("connection refused: consul:8500")
          .hasCauseInstanceOf(RegistryException.class);
      // The server is the caller's: still serving, not stopped; nothing half-registered.
      assertThat(stopped).isFalse();
      HttpRequest direct =
          HttpRequest.newBuilder(URI.create("http://" + backend.address() + "/x")).build();
      assertThat(Fixtures.http().send(direct, BodyHandlers.ofString()).body()).isEqualTo("s1");
    }
  }

  @Test
  void badAddresses_failFast() throws IOException {
    StaticRegistry registry = new StaticRegistry();
    assertThatThrownBy(() -> HttpServiceRegistration.builder(registry, "echo").register())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("no address");
    assertThatThrownBy(() -> HttpServiceRegistration.builder(registry, "echo").address("h", 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port");
    assertThatThrownBy(() -> HttpServiceRegistration.builder(registry, "echo").scheme("ftp"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'http' or 'https'");
  }

  @Test
  void close_drainsDeregistersWaitsForInFlightThenStops_withoutFailingClientCalls()
      throws Exception {
    StaticRegistry registry = new StaticRegistry();
    List<String> seen = new CopyOnWriteArrayList<>();
    registry.watch(
        "echo",
        members ->
            seen.add(
                members.stream()
                    .filter(m -> m.id().equals("s1"))
                    .map(m -> m.draining() ? "draining" : "up")
                    .findFirst()
                    .orElse("gone")));
    Backend s1 = Backend.start("s1");
    Backend s2 = Backend.start("s2");
    CountDownLatch arrived = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    s1.responder =
        (exchange, backend) -> {
          if (exchange.getRequestURI().getPath().equals("/slow")) {
            arrived.countDown();
            try {
              release.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
          Backend.ok(exchange, backend);
        };
    HttpServiceRegistration r1 =
        HttpServiceRegistration.builder(registry, EchoHandler.class)
            .server(s1.server())
            .id("s1")
            .tracker(s1.tracker)
            .drain(Duration.ofMillis(200), Duration.ofSeconds(10))
            .register();
    HttpServiceRegistration r2 =
        HttpServiceRegistration.builder(registry, EchoHandler.class)
            .server(s2.server())
            .id("s2")
            .register();
    try (Cluster cluster =
        Fixtures.started(
            Cluster.builder("echo")
                .registry(registry)
                .policy(BalancingPolicy.roundRobin())
                .updateDebounce(Duration.ZERO)
                .retryPolicy(Fixtures.RETRIES),
            2)) {
      AtomicReference<String> picked = new AtomicReference<>();
      LoadBalancedHttpClient client =
          LoadBalancedHttpClient.builder()
              .httpClient(Fixtures.http())
              .cluster(cluster)
              .interceptor(
                  chain -> {
                    picked.set(chain.instance().id());
                    return chain.proceed(chain.request());
                  })
              .build();
      // A slow request in flight on s1 (the first attempt is picked inside sendAsync)...
      CompletableFuture<HttpResponse<String>> slow = null;
      while (slow == null) {
        CompletableFuture<HttpResponse<String>> f =
            client.sendAsync(request("/slow").build(), BodyHandlers.ofString());
        if (picked.get().equals("s1")) {
          slow = f;
        } else {
          assertThat(f.get(5, TimeUnit.SECONDS).body()).isEqualTo("s2");
        }
      }
      assertThat(arrived.await(10, TimeUnit.SECONDS)).isTrue();
      // ...and steady traffic while s1 shuts down.
      AtomicBoolean loading = new AtomicBoolean(true);
      AtomicInteger failures = new AtomicInteger();
      AtomicInteger sent = new AtomicInteger();
      CompletableFuture<Void> load =
          CompletableFuture.runAsync(
              () -> {
                while (loading.get()) {
                  try {
                    if (client.send(request("/x").build(), BodyHandlers.ofString()).statusCode()
                        != 200) {
                      failures.incrementAndGet();
                    }
                  } catch (IOException | RuntimeException e) {
                    failures.incrementAndGet();
                  } catch (InterruptedException e) {
                    return;
                  }
                  sent.incrementAndGet();
                }
              });

      CompletableFuture<Void> closing = CompletableFuture.runAsync(r1::close);
      // ("gone" alone is no sign: the watch saw s1 absent before it registered.)
      await()
          .atMost(5, TimeUnit.SECONDS)
          .untilAsserted(() -> assertThat(seen).containsSubsequence("up", "draining", "gone"));
      // Deregistered, but the slow request still runs: close() waits, the server still serves.
      assertThat(closing).isNotDone();
      assertThat(s1.tracker.inFlight()).isEqualTo(1);

      release.countDown();
      closing.get(10, TimeUnit.SECONDS);
      assertThat(slow.get(5, TimeUnit.SECONDS).statusCode()).isEqualTo(200);
      assertThatThrownBy(() -> new Socket("127.0.0.1", s1.port()).close())
          .isInstanceOf(IOException.class); // stopped
      int atStop = sent.get();
      await().atMost(5, TimeUnit.SECONDS).until(() -> sent.get() > atStop + 20);
      loading.set(false);
      load.get(10, TimeUnit.SECONDS);
      assertThat(failures).hasValue(0);
    } finally {
      release.countDown();
      r2.close();
      s1.close();
      s2.close();
    }
  }

  @Test
  void close_waitsForInFlightRequestsOnlyUpToTheDrainTimeout() throws Exception {
    StaticRegistry registry = new StaticRegistry();
    RequestTracker tracker = new RequestTracker();
    AtomicBoolean stopped = new AtomicBoolean();
    HttpServiceRegistration registration =
        HttpServiceRegistration.builder(registry, "echo")
            .address("127.0.0.1", 9)
            .tracker(tracker)
            .drain(Duration.ZERO, Duration.ofMillis(200))
            .onStop(() -> stopped.set(true))
            .register();
    RequestTracker.Scope stuck = tracker.begin(); // a request that never ends
    long start = System.nanoTime();

    registration.close();

    long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(elapsed).isBetween(150L, 3_000L);
    assertThat(stopped).isTrue();
    assertThat(registry.members("echo")).isEmpty();
    stuck.close();
    stuck.close(); // idempotent
    assertThat(tracker.inFlight()).isZero();
  }
}
