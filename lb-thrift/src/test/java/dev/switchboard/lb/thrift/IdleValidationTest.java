package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The check of a connection idle past {@code validateAfterIdle}, against real servers on 127.0.0.1,
 * with the pool's ticker moved by hand.
 */
class IdleValidationTest {
  private static final Duration VALIDATE_AFTER = Duration.ofSeconds(1);

  private final AtomicLong now = new AtomicLong(1_000_000_000L);

  private TransportPool pool(ServiceInstance instance, ThriftTransportConfig.Builder config) {
    return new TransportPool(
        instance, config.idle(Duration.ofSeconds(60), VALIDATE_AFTER).build(), now::get);
  }

  private void idleFor(Duration d) {
    now.addAndGet(d.toNanos());
  }

  @Test
  void warmedTlsConnection_withASessionTicketPending_isReusedAfterIdling(@TempDir Path dir)
      throws Exception {
    TestCertificates certs = TestCertificates.create(dir);
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
            ThriftServer.builder(handler, new Echo.Processor<>(handler))
                .host("127.0.0.1")
                .registry(new StaticRegistry())
                .tls(certs.server(), true)
                .drain(Duration.ZERO, Duration.ofSeconds(1))
                .start();
        TransportPool pool =
            pool(server.instance(), ThriftTransportConfig.builder().tls(certs.client(), true))) {
      assertThat(pool.warmUp()).as("warm-up connected").isTrue();
      // TLS 1.3: the server sends its session ticket after the handshake; it waits, unread, in
      // the warmed connection's socket until something reads from it.
      PooledConnection warmed = pool.borrow(1_000);
      await("session ticket received")
          .atMost(Duration.ofSeconds(10))
          .until(() -> warmed.bytesWaiting() > 0);
      pool.release(warmed, true);

      idleFor(VALIDATE_AFTER.multipliedBy(2));
      PooledConnection reused = pool.borrow(1_000);

      assertThat(reused).as("the warmed connection, validated").isSameAs(warmed);
      assertThat(pool.created()).as("connections created").isEqualTo(1);
      reused.setReadTimeout(5_000);
      assertThat(new Echo.Client(reused.protocol).echo("after the ticket"))
          .isEqualTo("after the ticket");
      pool.release(reused, true);
      assertThat(pool.idle()).isEqualTo(1);
    }
  }

  @ParameterizedTest(name = "tls={0}")
  @ValueSource(booleans = {true, false})
  void idleConnection_whosePeerClosedIt_isReplacedNotReused(boolean tls, @TempDir Path dir)
      throws Exception {
    TestCertificates certs = tls ? TestCertificates.create(dir) : null;
    SSLContext serverTls = tls ? certs.server() : null;
    SSLContext clientTls = tls ? certs.client() : null;
    CountDownLatch hangUp = new CountDownLatch(1);
    try (MisbehavingPeers peers = new MisbehavingPeers()) {
      int port = peers.serve(s -> closeWithoutNotice(s, serverTls, hangUp));
      ThriftTransportConfig.Builder config = ThriftTransportConfig.builder();
      if (clientTls != null) {
        config.tls(clientTls, false);
      }
      try (TransportPool pool =
          pool(ServiceInstance.builder("echo", "127.0.0.1", port).build(), config)) {
        PooledConnection first = pool.borrow(5_000);
        pool.release(first, true);
        hangUp.countDown(); // the peer closes its socket: a FIN, no TLS close_notify
        await("peer's close seen").atMost(Duration.ofSeconds(10)).until(() -> !first.looksAlive());

        idleFor(VALIDATE_AFTER.multipliedBy(2));
        PooledConnection second = pool.borrow(5_000);

        assertThat(second).isNotSameAs(first);
        assertThat(pool.created()).as("connections created").isEqualTo(2);
        assertThat(pool.open()).as("the stale one closed").isEqualTo(1);
        pool.release(second, false);
      }
    }
  }

  /** Completes the TLS handshake if {@code tls} is set, waits for {@code hangUp}, then closes. */
  private static void closeWithoutNotice(Socket s, SSLContext tls, CountDownLatch hangUp)
      throws IOException {
    if (tls != null) {
      SSLSocket ssl = (SSLSocket) tls.getSocketFactory().createSocket(s, null, s.getPort(), false);
      ssl.setUseClientMode(false);
      ssl.startHandshake();
    }
    try {
      hangUp.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    s.close();
  }

  @Test
  void idlePlainConnection_isReusedAfterIdling_andOneTheServerClosed_isNot() throws Exception {
    try (EchoServer server = EchoServer.threadPool(new TBinaryProtocol.Factory());
        TransportPool pool =
            pool(
                ServiceInstance.builder("echo", "127.0.0.1", server.port()).build(),
                ThriftTransportConfig.builder().framed(false))) {
      assertThat(pool.warmUp()).isTrue();
      idleFor(VALIDATE_AFTER.multipliedBy(2));
      PooledConnection c = pool.borrow(1_000);
      assertThat(pool.created()).as("connections created").isEqualTo(1);
      c.setReadTimeout(5_000);
      assertThat(new Echo.Client(c.protocol).echo("plain")).isEqualTo("plain");
      pool.release(c, true);
    }
  }
}
