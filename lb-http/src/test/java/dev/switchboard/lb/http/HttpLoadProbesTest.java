package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.LoadProbes;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.TestEndpoints;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse.BodyHandlers;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A registered HTTP server answers Prequal's load probes from its {@link RequestTracker}. */
class HttpLoadProbesTest {

  @Test
  void registeredWithATracker_answersProbesWithItsRequestsInFlight() throws Exception {
    StaticRegistry registry = new StaticRegistry();
    RequestTracker tracker = new RequestTracker();
    CountDownLatch release = new CountDownLatch(1);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
    server
        .createContext(
            "/",
            exchange -> {
              try {
                release.await();
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              exchange.sendResponseHeaders(204, -1);
              exchange.close();
            })
        .getFilters()
        .add(tracker.filter());
    server.start();
    try (HttpServiceRegistration registration =
            HttpServiceRegistration.builder(registry, "echo")
                .server(server)
                .tracker(tracker)
                .drain(Duration.ZERO, Duration.ofSeconds(5))
                .register();
        LoadProbes.UdpProber prober = LoadProbes.newProber()) {
      ServiceInstance registered = registry.members("echo").get(0);
      assertThat(registered.metadata()).containsKey(LoadProbes.METADATA_KEY);
      for (int i = 0; i < 3; i++) {
        Fixtures.http()
            .sendAsync(
                Fixtures.request("/")
                    .uri(java.net.URI.create("http://" + registered.address() + "/"))
                    .build(),
                BodyHandlers.discarding());
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> tracker.inFlight() == 3);

      AtomicInteger answered = new AtomicInteger(-1);
      Endpoint member = TestEndpoints.create(registered, 0);
      prober.probe(member, (endpoint, rif, latency, now) -> answered.set(rif));

      await().atMost(Duration.ofSeconds(10)).until(() -> answered.get() == 3);
      release.countDown();
    } finally {
      release.countDown();
    }
  }

  @Test
  void loadProbesOff_publishesNoProbePort() throws IOException {
    StaticRegistry registry = new StaticRegistry();
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    server.start();
    try (HttpServiceRegistration registration =
        HttpServiceRegistration.builder(registry, "echo")
            .server(server)
            .tracker(new RequestTracker())
            .loadProbes(false)
            .register()) {
      assertThat(registration.instance().metadata()).doesNotContainKey(LoadProbes.METADATA_KEY);
    }
  }
}
