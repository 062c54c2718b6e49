package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import org.apache.thrift.transport.TTransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Per-method configuration ({@code .method(name, m -> ...)}) over real Thrift servers on 127.0.0.1:
 * each method's deadline, idempotence, attempts and hedging apply to it alone.
 */
class MethodConfigTest {
  private final ThriftFixture f = new ThriftFixture();

  @AfterEach
  void tearDown() {
    f.close();
  }

  private static ThriftClients.Builder<Echo.Iface> builder(ThriftCluster cluster) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .timeout(Duration.ofSeconds(5));
  }

  private long callsOnEveryServer() {
    return f.servers.values().stream().mapToLong(EchoHandler::calls).sum();
  }

  @Test
  void methodTimeout_appliesToThatMethodOnly() throws Exception {
    f.handler(f.start()).delayEcho(800);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo =
        builder(cluster).method("sleep", m -> m.timeout(Duration.ofMillis(300))).build();

    long start = System.nanoTime();
    assertThatThrownBy(() -> echo.sleep(5_000, "late")).isInstanceOf(TTransportException.class);
    assertThat(Duration.ofNanos(System.nanoTime() - start))
        .as("sleep(5000) ends at its own 300 ms deadline, not the proxy's 5 s")
        .isLessThan(Duration.ofSeconds(3));

    // echo keeps the proxy's 5 s deadline: an 800 ms answer is not cut short.
    assertThat(echo.echo("in time")).isEqualTo("in time");
  }

  @Test
  void methodNotDeclaredIdempotentButConfiguredSo_isRetriedOnAnotherServerAfterATimeout()
      throws Exception {
    ThriftServer slow = f.start();
    f.start();
    f.handler(slow).delayEcho(5_000);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());

    // Unconfigured, echo is not idempotent: a call sent to the slow server times out and fails.
    Echo.Iface plain = builder(cluster).timeout(Duration.ofSeconds(1)).build();
    int failed = 0;
    for (int i = 0; i < 2; i++) {
      try {
        plain.echo("m" + i);
      } catch (TTransportException timeout) {
        failed++;
      }
    }
    assertThat(failed).as("round robin sent one of two calls to the slow server").isEqualTo(1);

    Echo.Iface configured =
        builder(cluster)
            .method("echo", m -> m.idempotent(true).timeout(Duration.ofSeconds(2)))
            .build();
    long slowCallsBefore = f.handler(slow).calls();
    for (int i = 0; i < 4; i++) {
      assertThat(configured.echo("n" + i)).isEqualTo("n" + i);
    }
    assertThat(f.handler(slow).calls())
        .as("first attempts that went to the slow server, then were retried")
        .isGreaterThan(slowCallsBefore);
  }

  @Test
  void maxAttempts_perMethod_limitsTheAttemptsOfThatMethod() throws Exception {
    for (int i = 0; i < 3; i++) {
      f.handler(f.start()).delayEcho(5_000);
    }
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface twice =
        builder(cluster)
            .method("echo", m -> m.idempotent(true).maxAttempts(2).timeout(Duration.ofMillis(900)))
            .build();
    assertThatThrownBy(() -> twice.echo("x")).isInstanceOf(TTransportException.class);
    await().atMost(Duration.ofSeconds(5)).until(() -> callsOnEveryServer() == 2);

    // The cluster's retry policy allows 3: without the method's limit, every server is tried.
    Echo.Iface thrice =
        builder(cluster)
            .method("echo", m -> m.idempotent(true).timeout(Duration.ofMillis(900)))
            .build();
    assertThatThrownBy(() -> thrice.echo("y")).isInstanceOf(TTransportException.class);
    await().atMost(Duration.ofSeconds(5)).until(() -> callsOnEveryServer() == 2 + 3);
  }

  @Test
  void hedging_perMethod_hedgesThatMethodOnly() throws Exception {
    ThriftServer slow = f.start();
    f.start();
    f.handler(slow).delayEcho(3_000);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo =
        builder(cluster)
            .timeout(Duration.ofSeconds(10))
            .method("echo", m -> m.idempotent(true).hedge(Duration.ofMillis(20), 100))
            .idempotent("sleep")
            .build();

    for (int i = 0; i < 6; i++) {
      long start = System.nanoTime();
      assertThat(echo.echo("m" + i)).isEqualTo("m" + i);
      assertThat(Duration.ofNanos(System.nanoTime() - start))
          .as("answered by a hedge, not after the slow server's 3 s")
          .isLessThan(Duration.ofSeconds(2));
    }
    long hedges = cluster.hedgesSent();
    assertThat(hedges).isPositive();

    // sleep is idempotent too, and each call takes 10x the hedge delay, but it is not hedged.
    for (int i = 0; i < 4; i++) {
      assertThat(echo.sleep(200, "s" + i)).isEqualTo("s" + i);
    }
    assertThat(cluster.hedgesSent()).isEqualTo(hedges);
  }

  @Test
  void proxyHedging_methodOptsOut_withNoHedging() throws Exception {
    f.start();
    f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo =
        builder(cluster)
            .hedge(Duration.ofMillis(20), 100)
            .idempotent("echo")
            .method("sleep", m -> m.idempotent(true).noHedging())
            .build();
    for (int i = 0; i < 4; i++) {
      assertThat(echo.sleep(200, "s" + i)).isEqualTo("s" + i);
    }
    assertThat(cluster.hedgesSent()).isZero();
    for (int i = 0; i < 4; i++) {
      assertThat(echo.sleep(0, "e" + i)).isEqualTo("e" + i);
    }
  }

  @Test
  void badConfiguration_failsAtOnce_namingTheMethodAndTheProblem() throws Exception {
    f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    assertThatThrownBy(() -> builder(cluster).method("get", m -> m.idempotent(true)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "no method 'get' on dev.switchboard.lb.thrift.test.Echo$Iface"
                + " (has [count, echo, fail, fire, sleep, whoami])");
    assertThatThrownBy(() -> builder(cluster).idempotent("echo", "gett"))
        .hasMessageContaining("no method 'gett'");
    assertThatThrownBy(() -> builder(cluster).method("echo", m -> m.maxAttempts(4)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxAttempts of Iface.echo is 4")
        .hasMessageContaining("retry policy allows 3");
    assertThatThrownBy(() -> builder(cluster).method("echo", m -> m.maxAttempts(0)))
        .hasMessageContaining("at least 1");
    assertThatThrownBy(() -> builder(cluster).method("echo", m -> m.timeout(Duration.ZERO)))
        .hasMessageContaining("timeout of Iface.echo must be positive");
    assertThatThrownBy(
            () -> builder(cluster).method("fail", m -> m.hedge(Duration.ofMillis(5), 10)).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("Iface.fail")
        .hasMessageContaining("not idempotent");
    assertThatThrownBy(
            () ->
                builder(cluster)
                    .method(
                        "echo",
                        m -> m.idempotent(true).maxAttempts(1).hedge(Duration.ofMillis(5), 10))
                    .build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("maxAttempts is 1");
  }
}
