package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@link ThriftInterceptor}s around each attempt of a proxy's calls, on real Thrift servers. */
class ThriftInterceptorTest {
  private final ThriftFixture f = new ThriftFixture();
  private final ExecutorService executor = Executors.newCachedThreadPool();
  private final List<String> seen = new CopyOnWriteArrayList<>();

  @AfterEach
  void tearDown() {
    f.close();
    executor.shutdownNow();
  }

  private static ThriftClients.Builder<Echo.Iface> builder(ThriftCluster cluster) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .timeout(Duration.ofSeconds(5));
  }

  /** Records "name>" before and "name<" after proceeding, with what the chain showed. */
  private ThriftInterceptor recording(String name) {
    return chain -> {
      seen.add(
          name
              + "> "
              + chain.method().getName()
              + List.of(chain.args())
              + " #"
              + chain.attempt()
              + " "
              + chain.endpoint().address());
      Object result = chain.proceed(chain.args());
      seen.add(name + "< " + result);
      return result;
    };
  }

  @Test
  void interceptors_runInTheOrderAdded_seeMethodArgsEndpointAndResult() throws Exception {
    ThriftServer server = f.start();
    String address = server.instance().address();
    Echo.Iface echo =
        builder(f.cluster(BalancingPolicy.roundRobin()))
            .interceptor(recording("a"))
            .interceptor(recording("b"))
            .build();

    assertThat(echo.echo("hi")).isEqualTo("hi");

    assertThat(seen)
        .containsExactly(
            "a> echo[hi] #1 " + address, "b> echo[hi] #1 " + address, "b< hi", "a< hi");
  }

  @Test
  void interceptor_decoratesTheArguments_theServerReceivesThem() throws Exception {
    f.start();
    Echo.Iface echo =
        builder(f.cluster(BalancingPolicy.roundRobin()))
            .interceptor(chain -> chain.proceed(new Object[] {chain.args()[0] + ";token=s3cr3t"}))
            .build();
    assertThat(echo.echo("hi")).isEqualTo("hi;token=s3cr3t");
  }

  @Test
  void shortCircuit_answersWithoutTouchingTheNetwork_andChargesNoEndpoint() throws Exception {
    ThriftServer server = f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo =
        builder(cluster)
            .idempotent("echo")
            .interceptor(chain -> "cached:" + chain.args()[0])
            .build();

    for (int i = 0; i < 5; i++) {
      assertThat(echo.echo("k" + i)).isEqualTo("cached:k" + i);
    }

    assertThat(f.handler(server).calls()).isZero();
    assertThat(cluster.poolStats().created()).as("connections opened").isZero();
    EndpointSnapshot endpoint = cluster.cluster().snapshot().endpoints().get(0);
    assertThat(endpoint.calls()).as("calls recorded against the endpoint").isZero();
    assertThat(endpoint.inFlight()).isZero();
  }

  @Test
  void retriedCall_theInterceptorSeesEachAttemptsEndpoint() throws Exception {
    ThriftServer live = f.start();
    ServiceInstance dead =
        ServiceInstance.builder("echo", "127.0.0.1", MisbehavingPeers.refusedPort()).build();
    f.registry.add(dead);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = builder(cluster).interceptor(recording("i")).build();

    // Round robin alternates, so a first attempt goes to the dead member within two calls; it is
    // refused and retried on the live one (connect failures are retried for every method).
    for (int i = 0; i < 2; i++) {
      assertThat(echo.echo("m" + i)).isEqualTo("m" + i);
    }

    List<String> attempts = seen.stream().filter(s -> s.startsWith("i>")).toList();
    List<String> retried = attempts.stream().filter(s -> s.contains(" #2 ")).toList();
    assertThat(retried).as("attempts: %s", attempts).isNotEmpty();
    for (String second : retried) {
      String call = second.substring("i> ".length(), second.indexOf(" #"));
      assertThat(attempts)
          .containsSubsequence(
              "i> " + call + " #1 " + dead.address(),
              "i> " + call + " #2 " + live.instance().address());
    }
  }

  @Test
  void exceptions_reachTheCallerUnchanged_anInterceptorsOwnIsNotRetriedNorCharged()
      throws Exception {
    ThriftServer server = f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    IllegalStateException boom = new IllegalStateException("refused by policy");
    Echo.Iface echo =
        builder(cluster)
            .idempotent("echo", "fail")
            .interceptor(recording("i"))
            .interceptor(
                chain -> {
                  if (chain.method().getName().equals("echo")) {
                    throw boom;
                  }
                  return chain.proceed(chain.args());
                })
            .build();

    assertThatThrownBy(() -> echo.echo("x")).isSameAs(boom);
    assertThat(seen).as("one attempt, not retried").hasSize(1);
    assertThat(f.handler(server).calls()).isZero();
    assertThat(cluster.cluster().snapshot().endpoints().get(0).failures()).isZero();

    assertThatThrownBy(() -> echo.fail("no"))
        .isInstanceOf(EchoFailure.class)
        .extracting(e -> ((EchoFailure) e).getReason())
        .isEqualTo("no");
  }

  @Test
  void interceptorAnswersATimeoutWithAFallback_theAttemptStillCountsAsTimedOut_andIsRetried()
      throws Exception {
    ThriftServer slow = f.start();
    f.start();
    f.handler(slow).delayEcho(5_000);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo =
        builder(cluster)
            .method("echo", m -> m.idempotent(true).timeout(Duration.ofSeconds(2)))
            .interceptor(
                chain -> {
                  try {
                    return chain.proceed(chain.args());
                  } catch (Exception e) {
                    return "fallback";
                  }
                })
            .build();

    // The fallback is the answer only when no retry follows: here the retry on the fast server
    // answers, so no call returns it.
    for (int i = 0; i < 2; i++) {
      assertThat(echo.echo("m" + i)).isEqualTo("m" + i);
    }
    assertThat(f.handler(slow).calls()).as("a first attempt timed out there").isPositive();
    EndpointSnapshot slowEndpoint =
        cluster.cluster().snapshot().endpoints().stream()
            .filter(e -> e.address().equals(slow.instance().address()))
            .findFirst()
            .orElseThrow();
    assertThat(slowEndpoint.failures()).as("the timeout is charged to it").isPositive();
  }

  @Test
  void badInterceptors_failTheCallNamingTheProblem() throws Exception {
    f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    ThriftInterceptor twice =
        chain -> {
          chain.proceed(chain.args());
          return chain.proceed(chain.args());
        };
    assertThatThrownBy(() -> builder(cluster).interceptor(twice).build().echo("x"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("called proceed() twice");
    assertThatThrownBy(
            () -> builder(cluster).interceptor(c -> c.proceed(new Object[0])).build().echo("x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("proceeded with 0 arguments to Iface.echo, which takes 1");
    assertThatThrownBy(() -> builder(cluster).interceptor(c -> 42).build().echo("x"))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("returned a java.lang.Integer from Iface.echo");
    assertThatThrownBy(() -> builder(cluster).interceptor(c -> null).build().count())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("returned a null from Iface.count, which returns long");
  }

  @Test
  void asyncProxy_runsTheInterceptorsToo_shortCircuitIncluded() throws Exception {
    ThriftServer server = f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.AsyncIface echo =
        builder(cluster)
            .interceptor(recording("i"))
            .interceptor(
                chain ->
                    chain.args()[0].equals("cached") ? "from cache" : chain.proceed(chain.args()))
            .buildAsync(Echo.AsyncIface.class, executor);

    FutureCallback<String> sent = new FutureCallback<>();
    echo.echo("hi", sent);
    assertThat(sent.get(5, TimeUnit.SECONDS)).isEqualTo("hi");
    FutureCallback<String> cached = new FutureCallback<>();
    echo.echo("cached", cached);
    assertThat(cached.get(5, TimeUnit.SECONDS)).isEqualTo("from cache");

    assertThat(f.handler(server).calls()).isEqualTo(1);
    assertThat(seen)
        .containsExactly(
            "i> echo[hi] #1 " + server.instance().address(),
            "i< hi",
            "i> echo[cached] #1 " + server.instance().address(),
            "i< from cache");

    FutureCallback<String> failed = new FutureCallback<>();
    echo.fail("no", failed);
    assertThatThrownBy(() -> failed.get(5, TimeUnit.SECONDS))
        .isInstanceOf(ExecutionException.class)
        .cause()
        .isInstanceOf(EchoFailure.class);
  }
}
