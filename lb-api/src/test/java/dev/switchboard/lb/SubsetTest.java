package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Calls restricted to a {@link Subset} of members by metadata, under every built-in policy. */
class SubsetTest {
  private final ClusterFixture f = new ClusterFixture();

  private ServiceInstance add(int port, Map<String, String> metadata) {
    ServiceInstance i =
        ServiceInstance.builder(ClusterFixture.SERVICE, "127.0.0.1", port)
            .metadata(metadata)
            .build();
    f.registry.add(i);
    return i;
  }

  @Test
  void subset_ofValidatesAndMerges_matchesEveryPair() {
    assertThat(Subset.of(Map.of())).isSameAs(Subset.ALL);
    assertThatThrownBy(() -> Subset.of(" ", "x")).isInstanceOf(IllegalArgumentException.class);
    Subset s = Subset.of("version", "2").with(Subset.of(Map.of("tenant", "a", "version", "3")));
    assertThat(s.pairs()).containsExactly(Map.entry("tenant", "a"), Map.entry("version", "3"));
    assertThat(s.toString()).isEqualTo("{tenant=a, version=3}");
    ServiceInstance both = add(9001, Map.of("tenant", "a", "version", "3", "zone", "x"));
    ServiceInstance one = add(9002, Map.of("tenant", "a"));
    assertThat(s.matches(both)).isTrue();
    assertThat(s.matches(one)).isFalse();
    assertThat(Subset.ALL.matches(one)).isTrue();
  }

  @Test
  void acquire_withSubset_picksOnlyMatchingMembers_underEveryPolicy() {
    add(9001, Map.of("version", "1"));
    ServiceInstance a = add(9002, Map.of("version", "2"));
    add(9003, Map.of());
    ServiceInstance b = add(9004, Map.of("version", "2"));
    CallContext v2 = CallContext.builder().subset(Subset.of("version", "2")).build();
    for (BalancingPolicy policy :
        new BalancingPolicy[] {
          BalancingPolicy.roundRobin(),
          BalancingPolicy.leastConnections(),
          BalancingPolicy.peakEwma(),
          BalancingPolicy.weightedRandom(),
          BalancingPolicy.consistentHash()
        }) {
      try (Cluster cluster = f.builder(policy).build()) {
        Set<String> picked = new HashSet<>();
        for (int i = 0; i < 200; i++) {
          try (Lease lease = cluster.acquire(v2)) {
            picked.add(lease.instance().address());
            lease.complete(Outcome.SUCCESS);
          }
        }
        assertThat(picked).as(policy.name()).containsExactlyInAnyOrder(a.address(), b.address());
      }
    }
  }

  @Test
  void acquire_noMemberMatches_failsNamingTheSubsetAndTheMembersValues() {
    add(9001, Map.of("version", "1"));
    add(9002, Map.of("canary", "true"));
    try (Cluster cluster = f.builder().build()) {
      CallContext ctx = CallContext.builder().subset(Subset.of("version", "3")).build();
      assertThatThrownBy(() -> cluster.acquire(ctx))
          .isInstanceOf(NoMatchingEndpointException.class)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessage(
              "No healthy endpoint for service 'echo': no member matches subset {version=3};"
                  + " members have 127.0.0.1:9001 {version=1}, 127.0.0.1:9002 {version=(none)}"
                  + " [127.0.0.1:9001 eligible; 127.0.0.1:9002 eligible]");
    }
  }

  @Test
  void acquire_matchingMemberSaturated_failsRatherThanFallingBack() {
    add(9001, Map.of("version", "1"));
    add(9002, Map.of("version", "2"));
    try (Cluster cluster = f.builder().maxInFlightPerEndpoint(1).build()) {
      CallContext v2 = CallContext.builder().subset(Subset.of("version", "2")).build();
      try (Lease held = cluster.acquire(v2)) {
        assertThat(held.instance().port()).isEqualTo(9002);
        assertThatThrownBy(() -> cluster.acquire(v2))
            .isInstanceOf(NoMatchingEndpointException.class)
            .hasMessageContaining("none of the 1 member matching subset {version=2}")
            .hasMessageContaining("saturated (max 1 in flight)");
      }
    }
  }
}
