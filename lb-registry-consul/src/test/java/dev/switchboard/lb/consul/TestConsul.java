package dev.switchboard.lb.consul;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.ServiceInstance;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/** Registries with short test timings, instances, and raw calls to an agent; 127.0.0.1 only. */
final class TestConsul {
  /** TTL of test registrations: heartbeats every 200 ms (fraction 1/4). */
  static final Duration TTL = Duration.ofMillis(800);

  /** Wait of test blocking queries. */
  static final Duration WAIT = Duration.ofMillis(500);

  static final Duration MIN_INTERVAL = Duration.ofMillis(20);
  static final Duration BACKOFF_INITIAL = Duration.ofMillis(20);
  static final Duration BACKOFF_MAX = Duration.ofMillis(200);

  /** One client for raw calls, made when this class loads (so it predates thread snapshots). */
  private static final HttpClient HTTP =
      HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

  private TestConsul() {}

  /** A registry on {@code agent} with short timings. */
  static ConsulRegistry.Builder registry(URI agent) {
    return ConsulRegistry.builder()
        .agentUri(agent)
        .ttl(TTL)
        .heartbeatFraction(0.25)
        .deregisterCriticalAfter(Duration.ofSeconds(1))
        .blockingWait(WAIT)
        .minWatchInterval(MIN_INTERVAL)
        .backoff(BACKOFF_INITIAL, BACKOFF_MAX)
        .requestTimeout(Duration.ofSeconds(5)); // generous: a loaded CI machine is slow
  }

  static ServiceInstance instance(String service, int port) {
    return ServiceInstance.builder(service, "127.0.0.1", port).build();
  }

  /** {@code PUT path} with {@code json} to the agent at {@code agent}; asserts a 2xx answer. */
  static String put(URI agent, @Nullable String token, String path, String json) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(agent + path))
            .timeout(Duration.ofSeconds(5))
            .PUT(HttpRequest.BodyPublishers.ofString(json));
    if (token != null) {
      request.header("X-Consul-Token", token);
    }
    try {
      HttpResponse<String> response =
          HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(response.statusCode()).as("PUT %s: %s", path, response.body()).isBetween(200, 299);
      return response.body();
    } catch (IOException e) {
      throw new AssertionError("PUT " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /** {@code GET path} from the agent at {@code agent}; asserts a 2xx answer, returns the body. */
  static String get(URI agent, @Nullable String token, String path) {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(agent + path)).timeout(Duration.ofSeconds(5)).GET();
    if (token != null) {
      request.header("X-Consul-Token", token);
    }
    try {
      HttpResponse<String> response =
          HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString(StandardCharsets.UTF_8));
      assertThat(response.statusCode()).as("GET %s: %s", path, response.body()).isBetween(200, 299);
      return response.body();
    } catch (IOException e) {
      throw new AssertionError("GET " + path + " failed", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError("interrupted", e);
    }
  }

  /**
   * Registers {@code serviceJson} (catalog format: ID, Service, Tags, Address, Meta, Port) on node
   * {@code node} at {@code nodeAddress} with one passing check, as Spring Cloud or an operator
   * would register a service that no agent of ours owns.
   */
  static void catalogRegister(
      URI agent, @Nullable String token, String node, String nodeAddress, String serviceJson) {
    String serviceId = serviceJson.replaceAll("(?s).*\"ID\"\\s*:\\s*\"([^\"]*)\".*", "$1");
    put(
        agent,
        token,
        "/v1/catalog/register",
        "{\"Node\":\""
            + node
            + "\",\"Address\":\""
            + nodeAddress
            + "\",\"Service\":"
            + serviceJson
            + ",\"Check\":{\"CheckID\":\"external:"
            + serviceId
            + "\",\"Name\":\"external\",\"Status\":\"passing\",\"ServiceID\":\""
            + serviceId
            + "\"}}");
  }

  static void catalogDeregisterNode(URI agent, @Nullable String token, String node) {
    put(agent, token, "/v1/catalog/deregister", "{\"Node\":\"" + node + "\"}");
  }

  /** The live threads. */
  static Set<Thread> threads() {
    Set<Thread> threads = new HashSet<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.isAlive()) {
        threads.add(thread);
      }
    }
    return threads;
  }
}
