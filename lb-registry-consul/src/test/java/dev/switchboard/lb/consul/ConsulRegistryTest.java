package dev.switchboard.lb.consul;

import static dev.switchboard.lb.consul.TestConsul.instance;
import static dev.switchboard.lb.consul.TestConsul.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.consul.testing.ConsulStandIn;
import dev.switchboard.lb.consul.testing.RecordedRequest;
import dev.switchboard.lb.testing.LogCapture;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Registration against the stand-in, including what only a stand-in can do to an agent. */
class ConsulRegistryTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private ConsulStandIn standIn;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() {
    standIn = ConsulStandIn.builder().deregisterCriticalMinimum(Duration.ZERO).start();
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    standIn.close();
  }

  private ConsulRegistry newRegistry() {
    return track(registry(standIn.uri()).build());
  }

  private <T extends AutoCloseable> T track(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  private List<RecordedRequest> requests(String method, String pathPrefix) {
    return standIn.requests().stream()
        .filter(r -> r.method().equals(method) && r.path().startsWith(pathPrefix))
        .toList();
  }

  @Test
  void register_sendsTheFirstHeartbeatAtOnce_checkDeclaredWithoutStatus() throws Exception {
    ConsulRegistry registry =
        track(registry(standIn.uri()).ttl(Duration.ofSeconds(30)).build()); // beats every 10 s

    registry.register(instance("echo", 9001));

    assertThat(standIn.checkStatus("service:127.0.0.1:9001")).contains("passing");
    List<RecordedRequest> all = standIn.requests();
    assertThat(all)
        .extracting(RecordedRequest::path)
        .containsExactly(
            "/v1/agent/service/register", "/v1/agent/check/pass/service:127.0.0.1:9001");
    JsonNode check = JSON.readTree(all.get(0).body()).get("Check");
    assertThat(check.get("TTL").asText()).isEqualTo("30s");
    assertThat(check.get("DeregisterCriticalServiceAfter").asText()).isEqualTo("1s");
    assertThat(check.has("Status")).as("Consul starts the check critical").isFalse();
    assertThat(TimeUnit.NANOSECONDS.toMillis(all.get(1).nanos() - all.get(0).nanos()))
        .as("first pass right after registering, not after the 10 s heartbeat interval")
        .isLessThan(1_000);
  }

  @Test
  void register_writesZoneWeightDrainingAndMetadataToMeta_weightToWeights() {
    ServiceInstance instance =
        ServiceInstance.builder("echo", "127.0.0.1", 9001)
            .zone("eu-1a")
            .weight(300)
            .metadata(Map.of("scheme", "https"))
            .build();

    newRegistry().register(instance);

    assertThat(standIn.service("127.0.0.1:9001"))
        .hasValueSatisfying(
            s -> {
              assertThat(s.name()).isEqualTo("echo");
              assertThat(s.address()).isEqualTo("127.0.0.1");
              assertThat(s.port()).isEqualTo(9001);
              assertThat(s.meta())
                  .isEqualTo(
                      Map.of(
                          "zone",
                          "eu-1a",
                          "weight",
                          "300",
                          "draining",
                          "false",
                          "scheme",
                          "https"));
              assertThat(s.passingWeight()).isEqualTo(3);
            });
  }

  @Test
  void heartbeats_everyFractionOfTheTtl_jittered_withoutWakingWatchers() {
    newRegistry().register(instance("echo", 9001));
    ConsulWatch watch = (ConsulWatch) newRegistry().watch("echo", new MembershipRecorder());
    await().atMost(Duration.ofSeconds(5)).until(() -> watch.requests() >= 2);
    long queriesBefore = watch.requests();
    int passesBefore = requests("PUT", "/v1/agent/check/pass/").size();

    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> requests("PUT", "/v1/agent/check/pass/").size() >= passesBefore + 10);

    List<RecordedRequest> passes = requests("PUT", "/v1/agent/check/pass/");
    List<Long> gapsMillis = new ArrayList<>();
    for (int i = passesBefore + 1; i < passes.size(); i++) {
      gapsMillis.add(
          TimeUnit.NANOSECONDS.toMillis(passes.get(i).nanos() - passes.get(i - 1).nanos()));
    }
    long interval = TestConsul.TTL.toMillis() / 4; // heartbeatFraction 0.25
    assertThat(gapsMillis)
        .as("every TTL x 0.25 = %d ms, less up to 20%% jitter", interval)
        .allSatisfy(gap -> assertThat(gap).isBetween(interval * 8 / 10 - 5, interval + 200));
    assertThat(new HashSet<>(gapsMillis)).as("jittered").hasSizeGreaterThan(1);
    long elapsedMillis =
        TimeUnit.NANOSECONDS.toMillis(
            passes.get(passes.size() - 1).nanos() - passes.get(passesBefore).nanos());
    assertThat(watch.requests() - queriesBefore)
        .as("heartbeats change no index: the watch only re-polls when its wait runs out")
        .isLessThanOrEqualTo(elapsedMillis / TestConsul.WAIT.toMillis() + 2);
    System.out.printf("[heartbeat] gaps between passes (ms): %s%n", gapsMillis);
  }

  @Test
  void heartbeatsStop_ttlRunsOut_thenTheAgentReapsIt_closeStillSucceeds() {
    ConsulRegistration registration =
        (ConsulRegistration) newRegistry().register(instance("echo", 9001));

    registration.suspendHeartbeats();

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> standIn.checkStatus("service:127.0.0.1:9001").orElse("").equals("critical"));
    await("reaped after DeregisterCriticalServiceAfter (1 s)")
        .atMost(Duration.ofSeconds(5))
        .until(() -> standIn.service("127.0.0.1:9001").isEmpty());
    try (LogCapture log = new LogCapture()) {
      registration.close(); // 404 "Unknown service ID": already gone, not an error
      assertThat(log.lines("Could not deregister")).isEmpty();
    }
  }

  @Test
  void agentRestart_forgetsTheInstance_nextHeartbeatRegistersItAgain() {
    ConsulRegistration registration =
        (ConsulRegistration) newRegistry().register(instance("echo", 9001));
    MembershipRecorder recorder = new MembershipRecorder();
    newRegistry().watch("echo", recorder);
    recorder.awaitIds("127.0.0.1:9001");
    long restartedAt = System.nanoTime();

    standIn.restart();

    await()
        .atMost(Duration.ofSeconds(5))
        .until(() -> standIn.checkStatus("service:127.0.0.1:9001").orElse("").equals("passing"));
    System.out.printf(
        "[restart] agent forgot the instance -> registered and passing again after %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt));
    assertThat(registration.reRegistrations()).isEqualTo(1);
    assertThat(standIn.service("127.0.0.1:9001")).isPresent();
    recorder.awaitIds("127.0.0.1:9001");
    List<RecordedRequest> registers = requests("PUT", "/v1/agent/service/register");
    assertThat(registers).hasSize(2);
    assertThat(registers.get(1).body()).contains("\"Status\":\"passing\"");
  }

  @Test
  void agentOutage_heartbeatsFailWithOneWarning_thenRecoverByThemselves() {
    Registration registration = newRegistry().register(instance("echo", 9001));
    try (LogCapture log = new LogCapture()) {
      standIn.stop();
      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> standIn.checkStatus("service:127.0.0.1:9001").orElse("").equals("critical"));
      // Critical after the 800 ms TTL: three or more heartbeats (every 200 ms) failed by now.
      int passesWhileDown = requests("PUT", "/v1/agent/check/pass/").size();

      standIn.resume();

      await()
          .atMost(Duration.ofSeconds(5))
          .until(() -> standIn.checkStatus("service:127.0.0.1:9001").orElse("").equals("passing"));
      assertThat(requests("PUT", "/v1/agent/check/pass/").size()).isGreaterThan(passesWhileDown);
      await().atMost(Duration.ofSeconds(5)).until(() -> !log.lines("again after").isEmpty());
      assertThat(log.lines("Heartbeat of 127.0.0.1:9001 to Consul agent"))
          .as("one WARN per outage")
          .hasSize(1);
    }
    assertThat(registration.instance().draining()).isFalse();
  }

  @Test
  void register_metadataConsulWouldRefuse_isRejectedBeforeAnyRequest() {
    ConsulRegistry registry = newRegistry();
    ServiceInstance dotted =
        instance("echo", 9001).toBuilder().metadata(Map.of("version.major", "2")).build();

    assertThatThrownBy(() -> registry.register(dotted))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("metadata key 'version.major'");
    assertThat(standIn.requests()).isEmpty();
  }

  @Test
  void register_sameIdTwice_isRejected() {
    ConsulRegistry registry = newRegistry();
    registry.register(instance("echo", 9001));

    assertThatThrownBy(() -> registry.register(instance("echo", 9001)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already registered");
  }

  @Test
  void register_agentUnreachable_throwsRegistryException_namingAgentAndCause() {
    standIn.stop();
    ConsulRegistry registry = newRegistry();

    assertThatThrownBy(() -> registry.register(instance("echo", 9001)))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("could not register instance '127.0.0.1:9001' of service 'echo'")
        .hasMessageContaining(standIn.uri().toString())
        .hasMessageContaining("connection refused");

    standIn.resume();
    registry.register(instance("echo", 9001)); // the failed attempt left nothing behind
  }

  @Test
  void register_agentRefuses_throwsWithStatusAndBody_andLeavesNothingBehind() {
    ConsulRegistry registry = newRegistry();
    standIn.failNextRequests(1, 500);

    assertThatThrownBy(() -> registry.register(instance("echo", 9001)))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("refused to register")
        .hasMessageContaining("HTTP 500: stand-in fault");

    standIn.failRequests(403, r -> r.path().startsWith("/v1/agent/check/pass/"));
    assertThatThrownBy(() -> registry.register(instance("echo", 9002)))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("refused to send the first heartbeat for")
        .hasMessageContaining("HTTP 403");
    assertThat(standIn.serviceIds()).as("registered but never passing: removed").isEmpty();
  }

  @Test
  void drain_keepsTheCheckPassing_andFailsOnceClosed() {
    Registration registration = newRegistry().register(instance("echo", 9001));

    registration.drain();

    assertThat(standIn.service("127.0.0.1:9001").orElseThrow().meta())
        .containsEntry("draining", "true");
    assertThat(standIn.checkStatus("service:127.0.0.1:9001")).contains("passing");
    registration.close();
    assertThat(standIn.serviceIds()).isEmpty();
    assertThatThrownBy(registration::drain).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void aclToken_sentOnEveryRequest_neverInUrisMessagesOrLogs() {
    String secret = "9f1c1d2e-5b6a-4c3d-8e7f-0a1b2c3d4e5f";
    try (ConsulStandIn secured = ConsulStandIn.builder().aclToken(secret).start();
        LogCapture log = new LogCapture()) {
      ConsulRegistry registry = track(registry(secured.uri()).aclToken(secret).build());
      Registration registration = registry.register(instance("echo", 9001));
      MembershipRecorder recorder = new MembershipRecorder();
      registry.watch("echo", recorder);
      recorder.awaitIds("127.0.0.1:9001");
      registration.drain();
      registration.close();

      ConsulRegistry wrong = track(registry(secured.uri()).aclToken("not-" + secret).build());
      assertThatThrownBy(() -> wrong.register(instance("echo", 9002)))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("HTTP 403: ACL not found")
          .hasMessageNotContaining(secret);
      MembershipRecorder refused = new MembershipRecorder();
      wrong.watch("echo", refused);
      await().atMost(Duration.ofSeconds(5)).until(() -> !refused.errors().isEmpty());
      registry.close();
      wrong.close();

      assertThat(secured.requests())
          .filteredOn(r -> r.token() != null && r.token().equals(secret))
          .hasSizeGreaterThanOrEqualTo(5);
      assertThat(secured.requests()).allSatisfy(r -> assertThat(r.query()).doesNotContain(secret));
      assertThat(refused.errors().get(0).getMessage()).contains("HTTP 403").doesNotContain(secret);
      assertThat(registry.toString()).doesNotContain(secret);
      assertThat(log.text()).contains("403").doesNotContain(secret);
    }
  }

  @Test
  void tls_registerAndWatchOverHttps_anUntrustedAgentIsRefused(@TempDir Path dir) throws Exception {
    TestTls tls = TestTls.selfSigned(dir);
    try (ConsulStandIn https = ConsulStandIn.builder().sslContext(tls.server).start()) {
      assertThat(https.uri().getScheme()).isEqualTo("https");
      ConsulRegistry registry = track(registry(https.uri()).sslContext(tls.client).build());

      registry.register(instance("echo", 9001));
      MembershipRecorder recorder = new MembershipRecorder();
      registry.watch("echo", recorder);
      recorder.awaitIds("127.0.0.1:9001");

      ConsulRegistry untrusting = track(registry(https.uri()).build()); // the JDK's trust store
      assertThatThrownBy(() -> untrusting.register(instance("echo", 9002)))
          .isInstanceOf(RegistryException.class)
          .hasMessageContaining("TLS failed");
      registry.close();
      assertThat(https.serviceIds()).isEmpty();
    }
  }

  @Test
  void watch_datacenterIsSentAsDc() {
    ConsulRegistry other = track(registry(standIn.uri()).datacenter("dc2").build());
    MembershipRecorder recorder = new MembershipRecorder();

    other.watch("echo", recorder);

    await().atMost(Duration.ofSeconds(5)).until(() -> !recorder.errors().isEmpty());
    assertThat(recorder.errors().get(0).getMessage()).contains("No path to datacenter");
    assertThat(requests("GET", "/v1/health/service/echo").get(0).queryParameter("dc"))
        .isEqualTo("dc2");
  }

  @Test
  void close_deregistersEverything_endsWatches_leavesNoThreads_rejectsUse() {
    Set<Thread> before = TestConsul.threads();

    ConsulRegistry registry = registry(standIn.uri()).build();
    registry.register(instance("closing", 9001));
    registry.register(instance("closing", 9002));
    MembershipRecorder recorder = new MembershipRecorder();
    registry.watch("closing", recorder);
    recorder.awaitIds("127.0.0.1:9001", "127.0.0.1:9002");
    Set<Thread> started = difference(TestConsul.threads(), before);
    started.removeIf( // the agent's and the test tools', not the registry's
        t -> t.getName().startsWith("consul-stand-in-") || t.getName().startsWith("awaitility"));

    registry.close();
    registry.close(); // idempotent

    assertThat(standIn.serviceIds()).isEmpty();
    assertThat(started).as("threads the registry started").isNotEmpty();
    // JDK 17's HttpClient has no close(): its selector thread ends once the client is unreachable.
    await("threads of the closed registry gone")
        .atMost(Duration.ofSeconds(15))
        .pollInterval(Duration.ofMillis(200))
        .pollInSameThread()
        .untilAsserted(
            () -> {
              System.gc();
              assertThat(started).noneMatch(Thread::isAlive);
            });
    System.out.println(
        "[threads] started by a registry, all gone after close: "
            + started.stream().map(Thread::getName).sorted().toList());
    int snapshots = recorder.size();
    assertThatThrownBy(() -> registry.register(instance("closing", 9003)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> registry.watch("closing", new MembershipRecorder()))
        .isInstanceOf(IllegalStateException.class);
    assertThat(recorder.size()).isEqualTo(snapshots);
  }

  @Test
  void close_agentDown_warnsAndReturns() {
    ConsulRegistry registry = registry(standIn.uri()).build();
    registry.register(instance("echo", 9001));
    standIn.stop();

    try (LogCapture log = new LogCapture()) {
      long start = System.nanoTime();
      registry.close();
      assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(5_000);
      assertThat(log.lines("Could not deregister 127.0.0.1:9001")).hasSize(1);
    }
  }

  private static <T> Set<T> difference(Set<T> a, Set<T> b) {
    Set<T> d = new HashSet<>(a);
    d.removeAll(b);
    return d;
  }
}
