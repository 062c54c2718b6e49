package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.RetryPolicy;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.transport.TTransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Servers that misbehave at the byte level: every call ends within its deadline with a clear
 * exception, the connection is discarded, the failure is recorded, and no socket leaks.
 */
class BadServerTest {
  private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();
  private final MisbehavingPeers peers = new MisbehavingPeers();

  @AfterEach
  void tearDown() throws Exception {
    for (AutoCloseable c : resources) {
      c.close();
    }
    peers.close();
  }

  private ThriftCluster cluster(int port) {
    ThriftCluster c =
        ThriftCluster.create(
            Cluster.builder("echo")
                .registry(
                    StaticRegistry.of(ServiceInstance.builder("echo", "127.0.0.1", port).build()))
                .policy(BalancingPolicy.roundRobin())
                .retryPolicy(RetryPolicy.none())
                .panicThreshold(0),
            ThriftTransportConfig.builder()
                .readTimeout(Duration.ofSeconds(2))
                .maxFrameSize(64 * 1024)
                .warmUp(0, Duration.ZERO)
                .build());
    resources.add(c);
    return c;
  }

  private static void readRequest(Socket s) throws IOException {
    InputStream in = s.getInputStream();
    byte[] header = in.readNBytes(4);
    int size = ByteBuffer.wrap(header).getInt();
    in.readNBytes(size);
  }

  private static void assertFailsWithin(
      ThriftCluster cluster, Duration bound, Class<? extends TException> type, String messagePart) {
    Echo.Iface echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .idempotent("echo")
            .timeout(Duration.ofMillis(800))
            .build();
    long start = System.nanoTime();
    assertThatThrownBy(() -> echo.echo("hello"))
        .isInstanceOf(type)
        .hasMessageContaining(messagePart);
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(bound);
    EndpointSnapshot s = cluster.cluster().snapshot().endpoints().get(0);
    assertThat(s.failures()).as("failure recorded").isEqualTo(1);
    assertThat(s.inFlight()).isZero();
    assertThat(cluster.poolStats().open()).as("broken connection discarded").isZero();
  }

  @Test
  void garbageReply_protocolError_connectionDiscarded() throws IOException {
    int port =
        peers.serve(
            s -> {
              try {
                readRequest(s);
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {0, 0, 0, 8, 'g', 'a', 'r', 'b', 'a', 'g', 'e', '!'});
                out.flush();
              } catch (IOException ignored) {
                // client went away
              }
            });
    assertFailsWithin(cluster(port), Duration.ofSeconds(2), TProtocolException.class, "");
  }

  @Test
  void closesMidFrame_transportError() throws IOException {
    int port =
        peers.serve(
            s -> {
              try {
                readRequest(s);
                OutputStream out = s.getOutputStream();
                out.write(new byte[] {0, 0, 0, 100, 1, 2, 3}); // promises 100 bytes, sends 3
                out.flush();
                s.close();
              } catch (IOException ignored) {
                // client went away
              }
            });
    assertFailsWithin(cluster(port), Duration.ofSeconds(2), TTransportException.class, "");
  }

  @Test
  void frameLargerThanMaximum_rejectedWithoutReadingIt() throws IOException {
    int port =
        peers.serve(
            s -> {
              try {
                readRequest(s);
                OutputStream out = s.getOutputStream();
                out.write(ByteBuffer.allocate(4).putInt(100 * 1024 * 1024).array());
                out.flush();
              } catch (IOException ignored) {
                // client went away
              }
            });
    assertFailsWithin(
        cluster(port), Duration.ofSeconds(2), TTransportException.class, "Frame size");
  }

  @Test
  void acceptsButNeverAnswers_timesOutWithinDeadline() throws IOException {
    int port =
        peers.serve(
            s -> {
              try {
                readRequest(s); // and say nothing
              } catch (IOException ignored) {
                // client went away
              }
            });
    assertFailsWithin(
        cluster(port), Duration.ofMillis(1500), TTransportException.class, "timed out");
  }
}
