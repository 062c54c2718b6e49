package dev.switchboard.lb.zookeeper;

import static dev.switchboard.lb.zookeeper.TestZooKeeper.client;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.registry;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.time.Duration;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.curator.x.discovery.ServiceCache;
import org.apache.curator.x.discovery.ServiceDiscovery;
import org.apache.curator.x.discovery.ServiceDiscoveryBuilder;
import org.apache.curator.x.discovery.UriSpec;
import org.apache.curator.x.discovery.details.JsonInstanceSerializer;
import org.apache.zookeeper.CreateMode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Both directions against Curator's own x-discovery recipe, and a node as Spring Cloud Zookeeper
 * writes it. x-discovery here uses {@code Object} payloads, as any client that does not know our
 * payload class would.
 */
class InteroperabilityTest {
  private static TestingServer server;
  private static CuratorFramework client;

  @BeforeAll
  static void startServer() throws Exception {
    server = TestZooKeeper.startServer();
    client = client(server.getConnectString());
  }

  @AfterAll
  static void stopServer() throws Exception {
    client.close();
    server.close();
  }

  private static ServiceDiscovery<Object> xDiscovery() throws Exception {
    ServiceDiscovery<Object> discovery =
        ServiceDiscoveryBuilder.builder(Object.class)
            .client(client)
            .basePath("/services")
            .serializer(new JsonInstanceSerializer<>(Object.class, false))
            .build();
    discovery.start();
    return discovery;
  }

  /** A payload type only the x-discovery side knows. */
  public record InstanceDetails(String description) {}

  @Test
  void xDiscoveryRegistrations_areDiscovered() throws Exception {
    try (ServiceDiscovery<Object> discovery = xDiscovery();
        ZooKeeperRegistry registry = registry(server.getConnectString()).build()) {
      Map<String, Object> ours = new LinkedHashMap<>();
      ours.put("zone", "eu-1b");
      ours.put("weight", 40);
      ours.put("metadata", Map.of("scheme", "http"));
      org.apache.curator.x.discovery.ServiceInstance<Object> mapPayload =
          org.apache.curator.x.discovery.ServiceInstance.builder()
              .name("inbound")
              .id("map-payload")
              .address("127.0.0.1")
              .port(7001)
              .payload(ours)
              .build();
      org.apache.curator.x.discovery.ServiceInstance<Object> pojoPayload =
          org.apache.curator.x.discovery.ServiceInstance.builder()
              .name("inbound")
              .id("pojo-payload")
              .address("127.0.0.2")
              .port(7002)
              .payload(new InstanceDetails("their own payload class"))
              .uriSpec(new UriSpec("{scheme}://{address}:{port}"))
              .build();
      org.apache.curator.x.discovery.ServiceInstance<Object> sslOnly =
          org.apache.curator.x.discovery.ServiceInstance.builder()
              .name("inbound")
              .id("ssl-only")
              .address("127.0.0.3")
              .sslPort(7443)
              .build();
      discovery.registerService(mapPayload);
      discovery.registerService(pojoPayload);
      discovery.registerService(sslOnly);

      MembershipRecorder recorder = new MembershipRecorder();
      registry.watch("inbound", recorder);
      recorder.awaitIds("map-payload", "pojo-payload", "ssl-only");

      ServiceInstance fromMap = recorder.latest("map-payload").orElseThrow();
      assertThat(fromMap.host()).isEqualTo("127.0.0.1");
      assertThat(fromMap.port()).isEqualTo(7001);
      assertThat(fromMap.zone()).isEqualTo("eu-1b");
      assertThat(fromMap.weight()).isEqualTo(40);
      assertThat(fromMap.metadata()).containsEntry("scheme", "http");
      ServiceInstance fromPojo = recorder.latest("pojo-payload").orElseThrow();
      assertThat(fromPojo.zone()).isEqualTo(ServiceInstance.NO_ZONE);
      assertThat(fromPojo.weight()).isEqualTo(ServiceInstance.DEFAULT_WEIGHT);
      assertThat(recorder.latest("ssl-only").orElseThrow().port()).isEqualTo(7443);

      discovery.updateService(
          org.apache.curator.x.discovery.ServiceInstance.builder()
              .name("inbound")
              .id("pojo-payload")
              .address("127.0.0.2")
              .port(7002)
              .enabled(false)
              .build());
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () -> recorder.latest("pojo-payload").map(ServiceInstance::draining).orElse(false));

      discovery.unregisterService(sslOnly);
      recorder.awaitIds("map-payload", "pojo-payload");
    }
  }

  @Test
  void ourRegistrations_areReadByXDiscovery() throws Exception {
    try (ServiceDiscovery<Object> discovery = xDiscovery();
        ZooKeeperRegistry registry = registry(server.getConnectString()).build()) {
      ServiceInstance echo =
          ServiceInstance.builder("outbound", "127.0.0.9", 9090)
              .zone("us-2a")
              .weight(300)
              .metadata(Map.of("scheme", "https"))
              .build();
      Registration registration = registry.register(echo);

      Collection<org.apache.curator.x.discovery.ServiceInstance<Object>> seen =
          discovery.queryForInstances("outbound");

      assertThat(seen).hasSize(1);
      org.apache.curator.x.discovery.ServiceInstance<Object> read = seen.iterator().next();
      assertThat(read.getName()).isEqualTo("outbound");
      assertThat(read.getId()).isEqualTo("127.0.0.9:9090");
      assertThat(read.getAddress()).isEqualTo("127.0.0.9");
      assertThat(read.getPort()).isEqualTo(9090);
      assertThat(read.isEnabled()).isTrue();
      assertThat(read.getPayload()).isInstanceOf(Map.class);
      Map<?, ?> payload = (Map<?, ?>) read.getPayload();
      assertThat(payload.get("zone")).isEqualTo("us-2a");
      assertThat(payload.get("weight")).isEqualTo(300);
      assertThat(payload.get("draining")).isEqualTo(false);
      assertThat(payload.get("metadata")).isEqualTo(Map.of("scheme", "https"));

      // x-discovery's own watcher follows our node, including a drain.
      try (ServiceCache<Object> cache = discovery.serviceCacheBuilder().name("outbound").build()) {
        cache.start();
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.getInstances().size() == 1);
        registration.drain();
        await()
            .atMost(Duration.ofSeconds(10))
            .until(
                () -> {
                  List<org.apache.curator.x.discovery.ServiceInstance<Object>> now =
                      cache.getInstances();
                  return now.size() == 1 && !now.get(0).isEnabled();
                });
        registration.close();
        await().atMost(Duration.ofSeconds(10)).until(() -> cache.getInstances().isEmpty());
      }
    }
  }

  @Test
  void springCloudZookeeperNode_isDiscovered_andOutOfServiceMeansDraining() throws Exception {
    String path = "/services/orders/2f0c5c9e-spring";
    String node =
        "{\"name\":\"orders\",\"id\":\"2f0c5c9e-spring\",\"address\":\"127.0.3.4\",\"port\":8080,"
            + "\"sslPort\":null,\"payload\":{\"@class\":"
            + "\"org.springframework.cloud.zookeeper.discovery.ZookeeperInstance\","
            + "\"id\":\"orders:8080\",\"name\":\"orders\",\"metadata\":{\"zone\":\"ap-3c\","
            + "\"instance_status\":\"UP\"}},\"registrationTimeUTC\":1700000000000,"
            + "\"serviceType\":\"DYNAMIC\",\"uriSpec\":{\"parts\":[{\"value\":\"scheme\","
            + "\"variable\":true},{\"value\":\"://\",\"variable\":false},{\"value\":\"address\","
            + "\"variable\":true},{\"value\":\":\",\"variable\":false},{\"value\":\"port\","
            + "\"variable\":true}]}}";
    client
        .create()
        .creatingParentContainersIfNeeded()
        .withMode(CreateMode.EPHEMERAL)
        .forPath(path, node.getBytes(UTF_8));
    try (ZooKeeperRegistry registry = registry(server.getConnectString()).build()) {
      MembershipRecorder recorder = new MembershipRecorder();
      registry.watch("orders", recorder);
      recorder.awaitIds("2f0c5c9e-spring");

      ServiceInstance spring = recorder.latest("2f0c5c9e-spring").orElseThrow();
      assertThat(spring.address()).isEqualTo("127.0.3.4:8080");
      assertThat(spring.zone()).isEqualTo("ap-3c");
      assertThat(spring.draining()).isFalse();

      client.setData().forPath(path, node.replace("\"UP\"", "\"OUT_OF_SERVICE\"").getBytes(UTF_8));
      await()
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  recorder.latest("2f0c5c9e-spring").map(ServiceInstance::draining).orElse(false));
    } finally {
      client.delete().forPath(path);
    }
  }
}
