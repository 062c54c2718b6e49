package dev.switchboard.lb.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * What ConsulRegistry must do against any agent: run against the stand-in on every build ({@link
 * StandInContractTest}) and against a real agent when {@code CONSUL_HTTP_ADDR} is set ({@link
 * RealAgentContractTest}). Only the agent's public HTTP API is used to check results; service names
 * are unique per run, so a shared agent is not disturbed.
 */
abstract class RegistryContract {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final String suffix = UUID.randomUUID().toString().substring(0, 8);

  /** The agent under test. */
  abstract URI agent();

  /** The ACL token to use, or null. */
  abstract @Nullable String token();

  /** Stops the agent after the registries closed (they deregister first). */
  void stopAgent() {}

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    stopAgent();
  }

  ConsulRegistry newRegistry() {
    ConsulRegistry.Builder builder = TestConsul.registry(agent());
    if (token() != null) {
      builder.aclToken(token());
    }
    ConsulRegistry registry = builder.build();
    closeables.add(registry);
    return registry;
  }

  /** A service name no other run uses. */
  String service(String name) {
    return "switchboard-test-" + name + "-" + suffix;
  }

  /** The IDs in {@code GET /v1/health/service/{service}}, passing only or all. */
  List<String> healthIds(String service, boolean passingOnly) throws Exception {
    JsonNode entries =
        JSON.readTree(
            TestConsul.get(
                agent(),
                token(),
                "/v1/health/service/" + service + (passingOnly ? "?passing" : "")));
    List<String> ids = new ArrayList<>();
    entries.forEach(e -> ids.add(e.path("Service").path("ID").asText()));
    return ids;
  }

  @Test
  void register_passingAtOnce_heartbeatsKeepItPassing_deregisteredOnClose() throws Exception {
    String echo = service("echo");
    ServiceInstance instance =
        ServiceInstance.builder(echo, "127.0.0.1", 9001)
            .zone("eu-1a")
            .weight(250)
            .metadata(Map.of("scheme", "https"))
            .build();
    ConsulRegistry registry = newRegistry();
    MembershipRecorder recorder = new MembershipRecorder();
    newRegistry().watch(echo, recorder);

    Registration registration = registry.register(instance);

    assertThat(healthIds(echo, true))
        .as("passing when register() returns")
        .containsExactly("127.0.0.1:9001");
    recorder.awaitIds("127.0.0.1:9001");
    assertThat(recorder.latest("127.0.0.1:9001")).contains(instance);
    await("still passing after 3 TTLs")
        .during(TestConsul.TTL.multipliedBy(3))
        .atMost(TestConsul.TTL.multipliedBy(5))
        .until(() -> healthIds(echo, true).contains("127.0.0.1:9001"));

    registration.close();
    registration.close(); // idempotent

    assertThat(healthIds(echo, false)).isEmpty();
    recorder.awaitIds();
    assertThat(recorder.overlapped()).isFalse();
  }

  @Test
  void heartbeatsStop_checkTurnsCritical_instanceLeavesWatchers() throws Exception {
    String echo = service("frozen");
    ConsulRegistry registry = newRegistry();
    ConsulRegistration frozen =
        (ConsulRegistration) registry.register(TestConsul.instance(echo, 9001));
    registry.register(TestConsul.instance(echo, 9002));
    MembershipRecorder recorder = new MembershipRecorder();
    newRegistry().watch(echo, recorder);
    recorder.awaitIds("127.0.0.1:9001", "127.0.0.1:9002");
    long frozenAt = System.nanoTime();

    frozen.suspendHeartbeats(); // as a process stuck in a long pause

    recorder.awaitIds("127.0.0.1:9002");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - frozenAt);
    assertThat(millis)
        .as("gone after about one TTL")
        .isGreaterThanOrEqualTo(TestConsul.TTL.toMillis() / 2);
    assertThat(healthIds(echo, false)).as("still registered, critical").contains("127.0.0.1:9001");
    System.out.printf(
        "[ttl] heartbeats stopped -> instance left the watchers after %d ms (TTL %d ms)%n",
        millis, TestConsul.TTL.toMillis());
    frozen.close();
    assertThat(healthIds(echo, false)).containsExactly("127.0.0.1:9002");
  }

  @Test
  void drain_watchersSeeDraining_instanceStaysPassing() throws Exception {
    String echo = service("drain");
    Registration registration = newRegistry().register(TestConsul.instance(echo, 9001));
    MembershipRecorder recorder = new MembershipRecorder();
    newRegistry().watch(echo, recorder);
    recorder.awaitIds("127.0.0.1:9001");
    int from = recorder.size();

    registration.drain();

    assertThat(registration.instance().draining()).isTrue();
    recorder.awaitFirst(from, s -> s.members().stream().anyMatch(ServiceInstance::draining));
    assertThat(recorder.snapshots().subList(from, recorder.size()))
        .as("never left the passing members while re-registering")
        .allMatch(s -> s.ids().contains("127.0.0.1:9001"));
    assertThat(healthIds(echo, true)).containsExactly("127.0.0.1:9001");
  }

  @Test
  void servicesRegisteredByOtherTools_discoveredWithDefaults_emptyAddressMeansNodeAddress()
      throws Exception {
    String orders = service("orders");
    String node = "switchboard-test-node-" + suffix;
    TestConsul.catalogRegister(
        agent(),
        token(),
        node,
        "node-b.test",
        "{\"ID\":\"orders-8080\",\"Service\":\""
            + orders
            + "\",\"Tags\":[\"secure=false\"],\"Address\":\"\",\"Meta\":{\"secure\":\"false\","
            + "\"zone\":\"eu-1b\"},\"Port\":8080}");
    try {
      MembershipRecorder recorder = new MembershipRecorder();
      newRegistry().watch(orders, recorder);

      recorder.awaitIds("orders-8080");
      assertThat(recorder.latest("orders-8080"))
          .contains(
              new ServiceInstance(
                  orders,
                  "orders-8080",
                  "node-b.test",
                  8080,
                  "eu-1b",
                  ServiceInstance.DEFAULT_WEIGHT,
                  Map.of("secure", "false"),
                  false));
    } finally {
      TestConsul.catalogDeregisterNode(agent(), token(), node);
    }
  }

  @Test
  void watch_wakesWithinMillisecondsOfAChange_printsLatency() throws Exception {
    String echo = service("latency");
    ConsulRegistry writer = newRegistry();
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch = (ConsulWatch) newRegistry().watch(echo, recorder);
    recorder.awaitIds();
    List<Long> joins = new ArrayList<>();
    List<Long> leaves = new ArrayList<>();

    for (int i = 0; i < 15; i++) {
      ServiceInstance member = TestConsul.instance(echo, 10_000 + i);
      String id = member.id();

      awaitNextQuery(watch);
      int from = recorder.size();
      long start = System.nanoTime();
      Registration registration = writer.register(member);
      joins.add(micros(start, recorder.awaitFirst(from, s -> s.ids().contains(id)).nanos()));

      awaitNextQuery(watch);
      from = recorder.size();
      start = System.nanoTime();
      registration.close();
      leaves.add(micros(start, recorder.awaitFirst(from, s -> !s.ids().contains(id)).nanos()));
    }

    System.out.printf(
        "[latency] %s, change started -> snapshot delivered (query blocked when the change"
            + " starts): deregister (one write) %s; register (register + first heartbeat; the"
            + " watch also wakes for the critical entry, then waits out minWatchInterval %d ms)"
            + " %s%n",
        getClass().getSimpleName(),
        summary(leaves),
        TestConsul.MIN_INTERVAL.toMillis(),
        summary(joins));
    assertThat(median(leaves)).as("median wake-up after a deregistration, us").isLessThan(100_000);
    assertThat(median(joins)).as("median wake-up after a registration, us").isLessThan(100_000);
    assertThat(recorder.overlapped()).isFalse();
  }

  /** Waits until the watch sent its next query, so the change meets a blocked query. */
  private static void awaitNextQuery(ConsulWatch watch) {
    long sent = watch.requests();
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(1))
        .until(() -> watch.requests() > sent);
  }

  private static long median(List<Long> micros) {
    return micros.stream().sorted().toList().get(micros.size() / 2);
  }

  private static String summary(List<Long> micros) {
    List<Long> sorted = micros.stream().sorted().toList();
    return String.format(
        "p50 %.1f ms, p90 %.1f ms, max %.1f ms (n=%d)",
        sorted.get(sorted.size() / 2) / 1000.0,
        sorted.get(sorted.size() * 9 / 10) / 1000.0,
        sorted.get(sorted.size() - 1) / 1000.0,
        sorted.size());
  }

  @Test
  void subscriptionClose_stopsNotifications() throws Exception {
    String quiet = service("quiet");
    ConsulRegistry registry = newRegistry();
    MembershipRecorder closedRecorder = new MembershipRecorder();
    MembershipRecorder openRecorder = new MembershipRecorder();
    Subscription closed = registry.watch(quiet, closedRecorder);
    registry.watch(quiet, openRecorder);
    closedRecorder.awaitIds();
    openRecorder.awaitIds();

    closed.close();
    closed.close(); // idempotent
    registry.register(TestConsul.instance(quiet, 9001));

    openRecorder.awaitIds("127.0.0.1:9001");
    assertThat(closedRecorder.size()).isEqualTo(1);
  }

  private static long micros(long start, long end) {
    return TimeUnit.NANOSECONDS.toMicros(end - start);
  }
}
