package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.junit.jupiter.api.Test;

/**
 * Checks the committed generated code (src/test/gen-java) against the libthrift in use: a plain
 * generated {@code Echo.Client} talks to a plain libthrift server, no lb-thrift code involved.
 */
class GeneratedEchoTest {
  private static final int TIMEOUT_MILLIS = 5_000;

  @Test
  void everyMethod_plainSocketBinaryProtocol_behavesAsDeclared() throws Exception {
    try (EchoServer server = EchoServer.threadPool(new TBinaryProtocol.Factory())) {
      TTransport transport = new TSocket("127.0.0.1", server.port(), TIMEOUT_MILLIS);
      try (transport) {
        transport.open();
        Echo.Client client = new Echo.Client(new TBinaryProtocol(transport));

        assertThat(client.echo("hello")).isEqualTo("hello");
        assertThat(client.echo("")).isEmpty();
        assertThat(client.sleep(20, "late")).isEqualTo("late");
        assertThat(client.whoami()).isEqualTo("127.0.0.1:" + server.port());
        assertThatThrownBy(() -> client.fail("no luck"))
            .isInstanceOfSatisfying(
                EchoFailure.class, failure -> assertThat(failure.getReason()).isEqualTo("no luck"));

        CountDownLatch fired = server.handler().expectFires(1);
        client.fire("fire and forget");
        assertThat(fired.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(server.handler().lastFired()).isEqualTo("fire and forget");

        // echo x2, sleep, whoami, fail, fire; count itself is not counted.
        assertThat(client.count()).isEqualTo(6);
        assertThat(client.count()).isEqualTo(6);
        assertThat(server.handler().calls()).isEqualTo(6);
        assertThat(server.handler().fires()).isEqualTo(1);

        // The connection is still usable after a declared exception and a oneway call.
        assertThat(client.echo("still there")).isEqualTo("still there");
      }
    }
  }

  @Test
  void echo_framedCompactProtocol_againstSelectorServer() throws Exception {
    try (EchoServer server = EchoServer.framedSelector(new TCompactProtocol.Factory())) {
      TTransport transport =
          new TFramedTransport(
              new TSocket(new TConfiguration(), "127.0.0.1", server.port(), TIMEOUT_MILLIS),
              TConfiguration.DEFAULT_MAX_FRAME_SIZE);
      try (transport) {
        transport.open();
        Echo.Client client = new Echo.Client(new TCompactProtocol(transport));

        assertThat(client.echo("framed")).isEqualTo("framed");
        assertThatThrownBy(() -> client.fail("framed failure"))
            .isInstanceOfSatisfying(
                EchoFailure.class,
                failure -> assertThat(failure.getReason()).isEqualTo("framed failure"));
        CountDownLatch fired = server.handler().expectFires(1);
        client.fire("framed fire");
        assertThat(fired.await(TIMEOUT_MILLIS, TimeUnit.MILLISECONDS)).isTrue();
        assertThat(client.whoami()).isEqualTo(server.handler().identity());
        assertThat(client.count()).isEqualTo(4);
      }
    }
  }

  @Test
  void sleep_longerThanReadTimeout_failsWithTimedOut() throws Exception {
    try (EchoServer server = EchoServer.threadPool(new TBinaryProtocol.Factory())) {
      TTransport transport =
          new TSocket(new TConfiguration(), "127.0.0.1", server.port(), 50, 1000);
      try (transport) {
        transport.open();
        Echo.Client client = new Echo.Client(new TBinaryProtocol(transport));

        assertThatThrownBy(() -> client.sleep(1_000, "too late"))
            .isInstanceOfSatisfying(
                TTransportException.class,
                e -> assertThat(e.getType()).isEqualTo(TTransportException.TIMED_OUT));
      }
    }
  }
}
