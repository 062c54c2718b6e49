package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.NoMatchingEndpointException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.Subset;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.apache.thrift.transport.TTransportException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Subsets by instance metadata over real Thrift servers registered with different metadata: a
 * client or a call reaches only matching members, never falls back to others, and fails with an
 * error naming the subset and each member's values when none can take it.
 */
class SubsetTest {
  private final ThriftFixture f = new ThriftFixture();

  @AfterEach
  void tearDown() {
    f.close();
  }

  private static ThriftClients.Builder<Echo.Iface> builder(ThriftCluster cluster) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .idempotent("echo", "whoami")
        .timeout(Duration.ofSeconds(5));
  }

  @Test
  void clientSubset_callsReachOnlyMatchingMembers_spreadOverThem() throws Exception {
    ThriftServer v1 = f.start(Map.of("version", "1"));
    ThriftServer v2a = f.start(Map.of("version", "2", "canary", "true"));
    ThriftServer v2b = f.start(Map.of("version", "2"));
    for (BalancingPolicy policy :
        new BalancingPolicy[] {
          BalancingPolicy.roundRobin(),
          BalancingPolicy.leastConnections(),
          BalancingPolicy.peakEwma(),
          BalancingPolicy.weightedRandom(),
          BalancingPolicy.consistentHash()
        }) {
      Echo.Iface echo = builder(f.cluster(policy)).subset(Subset.of("version", "2")).build();
      Set<String> answered = new HashSet<>();
      for (int i = 0; i < 60; i++) {
        answered.add(echo.whoami());
      }
      assertThat(answered)
          .as(policy.name())
          .containsExactlyInAnyOrder(v2a.instance().address(), v2b.instance().address());
    }
    assertThat(f.handler(v1).calls()).isZero();
  }

  @Test
  void noMemberMatches_callFailsNamingTheSubsetAndEachMembersValues() throws Exception {
    ThriftServer v1 = f.start(Map.of("version", "1"));
    ThriftServer v2 = f.start(Map.of("version", "2"));
    Echo.Iface echo =
        builder(f.cluster(BalancingPolicy.roundRobin())).subset(Subset.of("version", "3")).build();

    assertThatThrownBy(echo::whoami)
        .isInstanceOf(NoMatchingEndpointException.class)
        .hasMessageContaining("no member matches subset {version=3}")
        .hasMessageContaining(v1.instance().address() + " {version=1}")
        .hasMessageContaining(v2.instance().address() + " {version=2}")
        .satisfies(
            e ->
                assertThat(((NoMatchingEndpointException) e).subset())
                    .isEqualTo(Subset.of("version", "3")));
    assertThat(f.handler(v1).calls() + f.handler(v2).calls()).isZero();
  }

  @Test
  void onlyMatchingMemberIsDown_retriesStayInTheSubset_neverFallBackToOthers() throws Exception {
    ThriftServer v1 = f.start(Map.of("version", "1"));
    ServiceInstance deadV2 =
        ServiceInstance.builder("echo", "127.0.0.1", MisbehavingPeers.refusedPort())
            .metadata(Map.of("version", "2"))
            .build();
    f.registry.add(deadV2);
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface echo = builder(cluster).subset(Subset.of("version", "2")).build();

    // The first call's attempts are refused (the repeats stay on the one matching member) until
    // outlier detection ejects it; later calls find no matching member that can take them.
    assertThatThrownBy(() -> echo.echo("x")).isInstanceOf(TTransportException.class);
    assertThat(f.handler(v1).calls()).as("calls on the version 1 member").isZero();
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () ->
                cluster.cluster().snapshot().endpoints().stream()
                    .anyMatch(
                        e ->
                            e.address().equals(deadV2.address())
                                && e.eligibility() == Eligibility.EJECTED));
    assertThatThrownBy(() -> echo.echo("x"))
        .isInstanceOf(NoMatchingEndpointException.class)
        .hasMessageContaining("none of the 1 member matching subset {version=2} can take the call")
        .hasMessageContaining(deadV2.address() + " ejected");
    assertThat(f.handler(v1).calls()).isZero();
  }

  @Test
  void perCallSubsetFromTheArguments_eachTenantReachesItsOwnServer() throws Exception {
    ThriftServer acme = f.start(Map.of("tenant", "acme", "version", "2"));
    ThriftServer initech = f.start(Map.of("tenant", "initech", "version", "2"));
    ThriftServer old = f.start(Map.of("tenant", "acme", "version", "1"));
    Echo.Iface echo =
        builder(f.cluster(BalancingPolicy.roundRobin()))
            .subset(Subset.of("version", "2"))
            .method("echo", m -> m.subset(args -> Subset.of("tenant", (String) args[0])))
            .build();

    for (int i = 0; i < 10; i++) {
      assertThat(echo.echo("acme")).isEqualTo("acme");
      assertThat(echo.echo("initech")).isEqualTo("initech");
    }
    assertThat(f.handler(acme).calls()).isEqualTo(10);
    assertThat(f.handler(initech).calls()).isEqualTo(10);
    assertThat(f.handler(old).calls()).as("version 1, excluded by the client's subset").isZero();

    assertThatThrownBy(() -> echo.echo("globex"))
        .isInstanceOf(NoMatchingEndpointException.class)
        .hasMessageContaining("{tenant=globex, version=2}");
  }

  @Test
  void subsetFunctionFailing_failsTheCallNamingTheMethod() throws Exception {
    f.start(Map.of("tenant", "acme"));
    ThriftCluster cluster = f.cluster(BalancingPolicy.roundRobin());
    Echo.Iface nulls = builder(cluster).method("echo", m -> m.subset(args -> null)).build();
    assertThatThrownBy(() -> nulls.echo("x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("subset function of Iface.echo returned null");
    Echo.Iface throwing =
        builder(cluster)
            .method("echo", m -> m.subset(args -> Subset.of("tenant", (String) args[1])))
            .build();
    assertThatThrownBy(() -> throwing.echo("x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("subset function of Iface.echo threw");
  }
}
