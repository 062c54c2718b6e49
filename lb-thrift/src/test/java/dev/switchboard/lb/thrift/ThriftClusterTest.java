package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import org.apache.thrift.TApplicationException;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TProtocol;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The transport picker, protocols, warm-up, server annotation checks and answers that are errors.
 */
class ThriftClusterTest {
  private final ThriftFixture f = new ThriftFixture();

  @AfterEach
  void tearDown() {
    f.close();
  }

  @Test
  void borrowTransport_boundToOneEndpoint_closeReturnsConnectionAndFinishesLease()
      throws Exception {
    ThriftServer server = f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    LeasedTransport transport = cluster.borrowTransport();
    assertThat(transport.lease().instance().port()).isEqualTo(server.port());
    assertThat(transport.lease().endpoint().inFlight()).isEqualTo(1);
    Echo.Client client = new Echo.Client(transport.protocol());
    assertThat(client.whoami()).isEqualTo(server.instance().address());
    transport.close();
    transport.close(); // idempotent
    assertThat(transport.lease().outcome()).isEqualTo(Outcome.SUCCESS);
    assertThat(transport.lease().endpoint().inFlight()).isZero();
    assertThat(cluster.poolStats().idle()).as("connection back in the pool").isEqualTo(1);

    try (LeasedTransport again = cluster.borrowTransport()) {
      assertThat(cluster.poolStats().created()).as("reused, not reopened").isEqualTo(1);
      assertThat(new Echo.Client(again.protocol()).echo("x")).isEqualTo("x");
    }
  }

  @Test
  void borrowTransport_refusedEndpoint_recordedAndAnotherTried() throws Exception {
    ThriftServer dead = f.start();
    ThriftServer alive = f.start();
    dead.kill();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    for (int i = 0; i < 10; i++) {
      try (LeasedTransport t = cluster.borrowTransport()) {
        assertThat(t.lease().instance().port()).isEqualTo(alive.port());
      }
    }
    assertThat(
            cluster
                .cluster()
                .snapshot()
                .endpoint(dead.instance().address())
                .orElseThrow()
                .failures())
        .isPositive();
  }

  @Test
  void compactProtocolUnframed_againstAThreadPoolServer() throws Exception {
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .registry(f.registry)
            .protocol(ThriftProtocol.COMPACT)
            .framed(false)
            .drain(Duration.ZERO, Duration.ofSeconds(1))
            .start()) {
      handler.identity(server.instance().address());
      assertThat(server.instance().metadata())
          .containsEntry("thrift_protocol", "compact")
          .containsEntry("thrift_transport", "buffered");
      try (ThriftCluster cluster =
          ThriftCluster.create(
              Cluster.builder("echo").registry(f.registry),
              ThriftTransportConfig.builder()
                  .protocol(ThriftProtocol.COMPACT)
                  .framed(false)
                  .warmUp(0, Duration.ZERO)
                  .build())) {
        Echo.Iface echo = ThriftFixture.client(cluster);
        assertThat(echo.echo("compact")).isEqualTo("compact");
        assertThat(echo.whoami()).isEqualTo(server.instance().address());
      }
    }
  }

  @Test
  void newEndpoint_warmedUpAheadOfItsFirstCall() throws Exception {
    f.start();
    try (ThriftCluster cluster =
        ThriftCluster.create(
            Cluster.builder("echo").registry(f.registry),
            ThriftTransportConfig.builder().warmUp(2, Duration.ofMillis(50)).build())) {
      await().atMost(Duration.ofSeconds(10)).until(() -> cluster.poolStats().idle() == 2);
      f.start();
      await().atMost(Duration.ofSeconds(10)).until(() -> cluster.poolStats().idle() == 4);
      assertThat(cluster.poolStats().pools()).isEqualTo(2);
    }
  }

  @Test
  void tApplicationException_isTheServersAnswer_notRetried_endpointHealthy() throws Exception {
    f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    // A client whose calls name a method the server does not have: it answers UNKNOWN_METHOD.
    Echo.Iface wrongMethod =
        ThriftClients.builder(
                Echo.Iface.class,
                (TProtocol p) ->
                    new Echo.Client(p) {
                      @Override
                      public String echo(String message) throws TException {
                        sendBase("no_such_method", new Echo.echo_args(message));
                        Echo.echo_result result = new Echo.echo_result();
                        receiveBase(result, "no_such_method");
                        return result.getSuccess();
                      }
                    },
                cluster)
            .idempotent("echo")
            .build();
    assertThatThrownBy(() -> wrongMethod.echo("x"))
        .isInstanceOf(TApplicationException.class)
        .satisfies(
            e ->
                assertThat(((TApplicationException) e).getType())
                    .isEqualTo(TApplicationException.UNKNOWN_METHOD));
    var endpoint = cluster.cluster().snapshot().endpoints().get(0);
    assertThat(endpoint.failures()).isZero();
    assertThat(endpoint.calls()).as("answered once, not retried").isEqualTo(1);
    assertThat(ThriftFixture.client(cluster).echo("still fine")).isEqualTo("still fine");
  }

  /** Missing annotation. */
  static final class Unannotated extends EchoHandlerBase {}

  @ThriftService(name = " ")
  static final class BlankName extends EchoHandlerBase {}

  @ThriftService(name = "echo", weight = 20_000)
  static final class HeavyWeight extends EchoHandlerBase {}

  @Test
  void badAnnotation_failsFastNamingTheProblem() {
    assertThatThrownBy(
            () -> ThriftServer.builder(new Unannotated(), new Echo.Processor<>(new Unannotated())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Unannotated")
        .hasMessageContaining("no @ThriftService");
    assertThatThrownBy(
            () -> ThriftServer.builder(new BlankName(), new Echo.Processor<>(new BlankName())))
        .hasMessageContaining("must name the service");
    assertThatThrownBy(
            () -> ThriftServer.builder(new HeavyWeight(), new Echo.Processor<>(new HeavyWeight())))
        .hasMessageContaining("weight 20000");
  }

  /** A do-nothing handler for the annotation tests. */
  abstract static class EchoHandlerBase implements Echo.Iface {
    @Override
    public String echo(String message) {
      return message;
    }

    @Override
    public void fire(String message) {}

    @Override
    public String fail(String message) {
      return message;
    }

    @Override
    public String sleep(int millis, String message) {
      return message;
    }

    @Override
    public long count() {
      return 0;
    }

    @Override
    public String whoami() {
      return "";
    }
  }
}
