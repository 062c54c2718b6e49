package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.switchboard.lb.AdvertisedAddress;
import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.StaticRegistry;
import dev.switchboard.lb.thrift.test.Echo;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The server's own lifecycle: which address it binds and registers, and what start() leaves behind
 * when registering fails. Sockets on 127.0.0.1 only: the defaults are checked on the builder.
 */
class ThriftServerTest {

  /** A registry that cannot be reached: register throws, after noting what it was asked. */
  private static final class UnreachableRegistry implements ServiceRegistry {
    final AtomicReference<ServiceInstance> attempted = new AtomicReference<>();

    @Override
    public Registration register(ServiceInstance instance) {
      attempted.set(instance);
      throw new RegistryException("connection refused: zk-1:2181");
    }

    @Override
    public Subscription watch(String service, MembershipListener listener) {
      throw new UnsupportedOperationException("not watched in this test");
    }

    @Override
    public void close() {}
  }

  /** A working registry whose registrations cannot be marked draining (an old registry, say). */
  private static final class NoDrainRegistry implements ServiceRegistry {
    final StaticRegistry delegate = new StaticRegistry();

    @Override
    public Registration register(ServiceInstance instance) {
      Registration registration = delegate.register(instance);
      return new Registration() {
        @Override
        public ServiceInstance instance() {
          return registration.instance();
        }

        @Override
        public void drain() {
          throw new RegistryException("draining not supported");
        }

        @Override
        public void close() {
          registration.close();
        }
      };
    }

    @Override
    public Subscription watch(String service, MembershipListener listener) {
      return delegate.watch(service, listener);
    }

    @Override
    public void close() {
      delegate.close();
    }
  }

  @ParameterizedTest(name = "framed={0}")
  @ValueSource(booleans = {true, false}) // selector server, thread-pool server
  void start_registerFails_stopsServingFreesThePortAndThrowsNamingTheRegistryFailure(
      boolean framed) {
    UnreachableRegistry registry = new UnreachableRegistry();
    EchoHandler handler = new EchoHandler();

    Throwable thrown =
        catchThrowable(
            () ->
                ThriftServer.builder(handler, new Echo.Processor<>(handler))
                    .host("127.0.0.1")
                    .framed(framed)
                    .registry(registry)
                    .start());

    int port = registry.attempted.get().port();
    assertThat(port).isPositive();
    assertThat(serveThreadsOn(port)).as("serve threads left on port %d", port).isZero();
    assertThatThrownBy(() -> new Socket("127.0.0.1", port).close())
        .as("connecting to port %d after start() failed", port)
        .isInstanceOf(ConnectException.class);
    assertThat(thrown)
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("Thrift server 'echo' on 127.0.0.1:" + port)
        .hasMessageContaining("registering it failed")
        .hasMessageContaining("connection refused: zk-1:2181")
        .hasMessageContaining("stopped");
    assertThat(thrown.getCause()).hasMessage("connection refused: zk-1:2181");
  }

  @Test
  void defaults_bindTheWildcardAddress_andAdvertiseThisHostsFirstReachableIpv4Address()
      throws Exception {
    List<AdvertisedAddress.LocalInterface> nics =
        List.of(
            new AdvertisedAddress.LocalInterface(
                "lo", 1, true, true, false, List.of(InetAddress.getByName("127.0.0.1"))),
            new AdvertisedAddress.LocalInterface(
                "eth0",
                2,
                true,
                false,
                false,
                List.of(InetAddress.getByName("fe80::1"), InetAddress.getByName("10.20.30.40"))));
    EchoHandler handler = new EchoHandler();
    ThriftServer.Builder defaults =
        ThriftServer.builder(handler, new Echo.Processor<>(handler)).addressSource(() -> nics);

    assertThat(defaults.bindAddress().getAddress().isAnyLocalAddress()).isTrue();
    assertThat(defaults.advertisedHost()).isEqualTo("10.20.30.40");
    // Explicit choices win, and a specific bind host is advertised as given.
    assertThat(defaults.host("127.0.0.1").advertisedHost()).isEqualTo("127.0.0.1");
    assertThat(defaults.bindAddress().getAddress().isLoopbackAddress()).isTrue();
    assertThat(defaults.advertiseHost("echo-3.example").advertisedHost())
        .isEqualTo("echo-3.example");
  }

  @Test
  void started_onLoopback_registersTheAdvertisedHost() throws Exception {
    StaticRegistry registry = new StaticRegistry();
    EchoHandler handler = new EchoHandler();
    try (ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .advertiseHost("echo-3.example")
            .registry(registry)
            .drain(Duration.ZERO, Duration.ofSeconds(1))
            .start()) {
      assertThat(registry.members("echo"))
          .extracting(ServiceInstance::address)
          .containsExactly("echo-3.example:" + server.port());
    }
    assertThat(registry.members("echo")).isEmpty();
  }

  @Test
  void close_markingDrainingFails_stillDeregistersAndStops() throws Exception {
    NoDrainRegistry registry = new NoDrainRegistry();
    EchoHandler handler = new EchoHandler();
    ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .registry(registry)
            .drain(Duration.ofSeconds(5), Duration.ofSeconds(5))
            .start();
    assertThat(registry.delegate.members("echo")).hasSize(1);

    server.close();

    assertThat(registry.delegate.members("echo")).as("registered after close").isEmpty();
    assertThat(serveThreadsOn(server.port())).isZero();
  }

  private static long serveThreadsOn(int port) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().equals("switchboard-thrift-server-" + port))
        .count();
  }
}
