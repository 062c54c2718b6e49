package dev.switchboard.lb.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.ecwid.consul.transport.TransportException;
import com.ecwid.consul.v1.ConsulClient;
import com.ecwid.consul.v1.OperationException;
import com.ecwid.consul.v1.QueryParams;
import com.ecwid.consul.v1.Response;
import com.ecwid.consul.v1.agent.model.NewService;
import com.ecwid.consul.v1.catalog.model.CatalogRegistration;
import com.ecwid.consul.v1.health.HealthServicesRequest;
import com.ecwid.consul.v1.health.model.HealthService;
import dev.switchboard.lb.consul.testing.ConsulStandIn;
import dev.switchboard.lb.consul.testing.RecordedRequest;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The stand-in agent as seen by a third-party client (Ecwid's consul-api: Apache HttpClient and
 * Gson, written against real Consul), so the stand-in is not only agreeing with our own client.
 */
class ConsulStandInTest {
  private ConsulStandIn standIn;
  private ConsulClient consul;

  @BeforeEach
  void start() {
    standIn = ConsulStandIn.builder().deregisterCriticalMinimum(Duration.ZERO).start();
    consul = new ConsulClient("127.0.0.1", standIn.port());
  }

  @AfterEach
  void stop() {
    standIn.close();
  }

  private static NewService service(String id, int port, String ttl) {
    NewService service = new NewService();
    service.setId(id);
    service.setName("billing");
    service.setAddress("127.0.0.1");
    service.setPort(port);
    service.setTags(List.of("v2", "zone=eu-1a"));
    service.setMeta(Map.of("scheme", "https"));
    NewService.Check check = new NewService.Check();
    check.setTtl(ttl);
    service.setCheck(check);
    return service;
  }

  private List<HealthService> passing() {
    return consul
        .getHealthServices("billing", HealthServicesRequest.newBuilder().setPassing(true).build())
        .getValue();
  }

  @Test
  void register_checkStartsCritical_passMakesItPassing_healthShowsIt() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));

    assertThat(consul.getAgentChecks().getValue().get("service:billing-1").getStatus())
        .hasToString("CRITICAL");
    assertThat(passing()).isEmpty();
    assertThat(
            consul
                .getHealthServices(
                    "billing", HealthServicesRequest.newBuilder().setPassing(false).build())
                .getValue())
        .hasSize(1);

    consul.agentCheckPass("service:billing-1");

    List<HealthService> entries = passing();
    assertThat(entries).hasSize(1);
    HealthService.Service service = entries.get(0).getService();
    assertThat(service.getId()).isEqualTo("billing-1");
    assertThat(service.getService()).isEqualTo("billing");
    assertThat(service.getAddress()).isEqualTo("127.0.0.1");
    assertThat(service.getPort()).isEqualTo(9001);
    assertThat(service.getTags()).containsExactly("v2", "zone=eu-1a");
    assertThat(service.getMeta()).containsExactly(Map.entry("scheme", "https"));
    assertThat(entries.get(0).getNode().getNode()).isEqualTo("stand-in");
    assertThat(entries.get(0).getNode().getAddress()).isEqualTo("127.0.0.1");
    assertThat(entries.get(0).getChecks())
        .extracting(c -> c.getCheckId())
        .containsExactly("serfHealth", "service:billing-1");
    assertThat(consul.getAgentServices().getValue()).containsOnlyKeys("billing-1");
  }

  @Test
  void health_reportsIndexHeaders_blockingQueryHoldsUntilAChange() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));
    consul.agentCheckPass("service:billing-1");
    Response<List<HealthService>> first =
        consul.getHealthServices(
            "billing", HealthServicesRequest.newBuilder().setPassing(true).build());
    long index = first.getConsulIndex();
    assertThat(index).isPositive();
    assertThat(first.isConsulKnownLeader()).isTrue();
    assertThat(first.getConsulLastContact()).isZero();

    CompletableFuture<Response<List<HealthService>>> blocked =
        CompletableFuture.supplyAsync(
            () ->
                consul.getHealthServices(
                    "billing",
                    HealthServicesRequest.newBuilder()
                        .setPassing(true)
                        .setQueryParams(new QueryParams(10, index))
                        .build()));
    await("held while nothing changes")
        .during(Duration.ofMillis(300))
        .atMost(Duration.ofSeconds(2))
        .until(() -> !blocked.isDone());

    consul.agentServiceRegister(service("billing-2", 9002, "5s"));
    consul.agentCheckPass("service:billing-2");

    Response<List<HealthService>> woken = blocked.orTimeout(5, TimeUnit.SECONDS).join();
    assertThat(woken.getConsulIndex()).isGreaterThan(index);
  }

  @Test
  void blockingQuery_noChange_returnsWhenTheWaitRunsOut_withTheSameIndex() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));
    long index =
        consul
            .getHealthServices("billing", HealthServicesRequest.newBuilder().build())
            .getConsulIndex();
    long start = System.nanoTime();

    Response<List<HealthService>> answer =
        consul.getHealthServices(
            "billing",
            HealthServicesRequest.newBuilder().setQueryParams(new QueryParams(1, index)).build());

    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(answer.getConsulIndex()).isEqualTo(index);
    assertThat(millis).as("wait 1 s plus up to 1/16 jitter").isBetween(950L, 1_500L);
  }

  @Test
  void heartbeatsDoNotChangeTheIndex_statusChangesDo() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));
    consul.agentCheckPass("service:billing-1");
    long index = standIn.index();

    consul.agentCheckPass("service:billing-1");
    assertThat(standIn.index()).as("same status and output: no raft write").isEqualTo(index);

    consul.agentCheckFail("service:billing-1");
    assertThat(standIn.index()).isGreaterThan(index);
    assertThat(passing()).isEmpty();
  }

  @Test
  void ttlRunsOut_checkCritical_thenServiceReapedAfterDeregisterCriticalServiceAfter() {
    NewService service = service("billing-1", 9001, "300ms");
    service.getCheck().setDeregisterCriticalServiceAfter("700ms");
    consul.agentServiceRegister(service);
    consul.agentCheckPass("service:billing-1");
    assertThat(passing()).hasSize(1);

    await()
        .atMost(Duration.ofSeconds(3))
        .until(() -> standIn.checkStatus("service:billing-1").orElse("").equals("critical"));
    assertThat(passing()).isEmpty();
    assertThat(consul.getAgentChecks().getValue().get("service:billing-1").getOutput())
        .isEqualTo("TTL expired");
    await()
        .atMost(Duration.ofSeconds(3))
        .until(() -> consul.getAgentServices().getValue().isEmpty());
  }

  @Test
  void reRegistration_keepsTheCheckStatus_asConsulDoes() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));
    consul.agentCheckPass("service:billing-1");

    consul.agentServiceRegister(service("billing-1", 9001, "5s"));

    assertThat(standIn.checkStatus("service:billing-1")).contains("passing");
  }

  @Test
  void unknownCheckOrService_is404_withConsulsMessage() {
    assertThatThrownBy(() -> consul.agentCheckPass("service:nobody"))
        .isInstanceOfSatisfying(
            OperationException.class,
            e -> {
              assertThat(e.getStatusCode()).isEqualTo(404);
              assertThat(e.getStatusContent()).startsWith("Unknown check ID \"service:nobody\"");
            });
    assertThatThrownBy(() -> consul.agentServiceDeregister("nobody"))
        .isInstanceOfSatisfying(
            OperationException.class,
            e -> {
              assertThat(e.getStatusCode()).isEqualTo(404);
              assertThat(e.getStatusContent()).startsWith("Unknown service ID \"nobody\"");
            });
  }

  @Test
  void deregister_removesServiceAndItsChecks() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));

    consul.agentServiceDeregister("billing-1");

    assertThat(consul.getAgentServices().getValue()).isEmpty();
    assertThat(consul.getAgentChecks().getValue()).isEmpty();
  }

  @Test
  void invalidRegistrations_are400_likeConsul() {
    NewService badMeta = service("billing-1", 9001, "5s");
    badMeta.setMeta(Map.of("version.major", "2"));
    NewService badTtl = service("billing-2", 9002, "5 seconds");

    assertThatThrownBy(() -> consul.agentServiceRegister(badMeta))
        .isInstanceOfSatisfying(
            OperationException.class,
            e -> {
              assertThat(e.getStatusCode()).isEqualTo(400);
              assertThat(e.getStatusContent()).contains("Invalid Service Meta");
            });
    assertThatThrownBy(() -> consul.agentServiceRegister(badTtl))
        .isInstanceOfSatisfying(
            OperationException.class, e -> assertThat(e.getStatusCode()).isEqualTo(400));
    assertThat(consul.getAgentServices().getValue()).isEmpty();
  }

  @Test
  void catalogRegister_serviceOnAnotherNode_withEmptyAddress_showsTheNodeAddress() {
    CatalogRegistration registration = new CatalogRegistration();
    registration.setNode("node-b");
    registration.setAddress("node-b.test");
    CatalogRegistration.Service service = new CatalogRegistration.Service();
    service.setId("billing-9");
    service.setService("billing");
    service.setPort(8080);
    service.setAddress("");
    registration.setService(service);
    CatalogRegistration.Check check = new CatalogRegistration.Check();
    check.setCheckId("external");
    check.setName("external");
    check.setServiceId("billing-9");
    check.setStatus(CatalogRegistration.CheckStatus.PASSING);
    registration.setCheck(check);

    consul.catalogRegister(registration);

    List<HealthService> entries = passing();
    assertThat(entries).hasSize(1);
    assertThat(entries.get(0).getNode().getAddress()).isEqualTo("node-b.test");
    assertThat(entries.get(0).getService().getAddress()).isEmpty();
    assertThat(entries.get(0).getChecks())
        .extracting(c -> c.getCheckId())
        .containsExactly("external");
  }

  @Test
  void aclToken_requiredWhenConfigured() {
    try (ConsulStandIn secured = ConsulStandIn.builder().aclToken("s3cret").start()) {
      ConsulClient client = new ConsulClient("127.0.0.1", secured.port());

      assertThatThrownBy(() -> client.agentServiceRegister(service("billing-1", 9001, "5s")))
          .isInstanceOfSatisfying(
              OperationException.class, e -> assertThat(e.getStatusCode()).isEqualTo(403));
      client.agentServiceRegister(service("billing-1", 9001, "5s"), "s3cret");

      assertThat(secured.serviceIds()).containsExactly("billing-1");
      assertThat(secured.requests())
          .extracting(RecordedRequest::token)
          .containsExactly(null, "s3cret");
    }
  }

  @Test
  void stop_refusesConnections_resume_keepsState_restart_forgetsServices() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));

    standIn.stop();
    assertThatThrownBy(() -> consul.getAgentServices()).isInstanceOf(TransportException.class);
    standIn.resume();
    assertThat(consul.getAgentServices().getValue()).containsOnlyKeys("billing-1");

    standIn.restart();
    assertThat(consul.getAgentServices().getValue()).isEmpty();
    assertThatThrownBy(() -> consul.agentCheckPass("service:billing-1"))
        .isInstanceOfSatisfying(
            OperationException.class, e -> assertThat(e.getStatusCode()).isEqualTo(404));
  }

  @Test
  void faults_failAndRewindAndZeroIndex_asConfigured() {
    consul.agentServiceRegister(service("billing-1", 9001, "5s"));
    long index =
        consul
            .getHealthServices("billing", HealthServicesRequest.newBuilder().build())
            .getConsulIndex();
    assertThat(index).isGreaterThan(1);

    standIn.failNextRequests(1, 503);
    assertThatThrownBy(() -> consul.getAgentServices())
        .isInstanceOfSatisfying(
            OperationException.class, e -> assertThat(e.getStatusCode()).isEqualTo(503));
    assertThat(consul.getAgentServices().getValue()).hasSize(1);

    standIn.rewindIndex();
    assertThat(
            consul
                .getHealthServices("billing", HealthServicesRequest.newBuilder().build())
                .getConsulIndex())
        .isEqualTo(1);

    standIn.reportIndexZero(true);
    assertThat(
            consul
                .getHealthServices("billing", HealthServicesRequest.newBuilder().build())
                .getConsulIndex())
        .isZero();
  }
}
