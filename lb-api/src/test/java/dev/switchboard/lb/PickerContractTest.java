package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.candidates;
import static dev.switchboard.lb.PolicyFixtures.excluding;
import static dev.switchboard.lb.PolicyFixtures.uniform;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** What every policy's picker promises the cluster, checked for all six. */
class PickerContractTest {

  static Stream<BalancingPolicy> policies() {
    return Stream.of(
        BalancingPolicy.roundRobin(),
        BalancingPolicy.leastConnections(),
        BalancingPolicy.peakEwma(),
        BalancingPolicy.weightedRandom(),
        BalancingPolicy.consistentHash(),
        // Every server answers every probe at once and truthfully (its requests in flight are
        // this client's, the only one): the pool is always full. These tests pick thousands of
        // times at one instant, when the default probe budget would stop probing after its burst
        // (PrequalPickerTest covers the budget).
        Prequal.builder((e, replies) -> replies.accept(e, e.inFlight(), 1000, 0L))
            .maxProbesPerSecond(1_000_000)
            .build());
  }

  @ParameterizedTest
  @MethodSource("policies")
  void pick_everyCandidateExcluded_returnsNone(BalancingPolicy policy) {
    for (Candidates c :
        new Candidates[] {uniform(1), candidates(3, 1), uniform(7), weighted(100)}) {
      Picker picker = policy.newPicker(c, null);
      PickArgs ctx = excluding(c.endpoints());

      assertThat(picker.pick(ctx, 0L))
          .as("%s over %d", policy, c.size())
          .isSameAs(PickResult.none());
    }
  }

  @ParameterizedTest
  @MethodSource("policies")
  void pick_excludingEachPickInTurn_visitsEveryMemberOnceThenNone(BalancingPolicy policy) {
    // The cluster's retry and bulkhead loop: exclude what was picked, pick again.
    for (Candidates c : new Candidates[] {candidates(5, 1, 1), uniform(10), weighted(60)}) {
      Picker picker = policy.newPicker(c, null);
      for (long key = 0; key < 20; key++) {
        Exclusions ctx = Exclusions.of(CallContext.builder().hashKey(key).build());
        Set<Endpoint> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        for (int k = 0; k < c.size(); k++) {
          PickResult r = picker.pick(ctx, 0L);
          assertThat(r.hasEndpoint()).as("%s pick %d of %d", policy, k, c.size()).isTrue();
          assertThat(seen.add(r.endpoint())).as("%s repeated %s", policy, r).isTrue();
          ctx.exclude(r.endpoint());
        }
        assertThat(picker.pick(ctx, 0L)).isSameAs(PickResult.none());
      }
    }
  }

  @ParameterizedTest
  @MethodSource("policies")
  void pick_randomExclusions_neverReturnsAnExcludedMember(BalancingPolicy policy) {
    SplittableRandom random = new SplittableRandom(11);
    Candidates c = weighted(30);
    Picker picker = policy.newPicker(c, null);
    for (int round = 0; round < 200; round++) {
      Exclusions ctx = Exclusions.of(CallContext.builder().hashKey(random.nextLong()).build());
      int excluded = random.nextInt(c.size());
      for (int k = 0; k < excluded; k++) {
        ctx.exclude(c.endpoint(random.nextInt(c.size())));
      }
      for (int k = 0; k < 50; k++) {
        Endpoint e = picker.pick(ctx, 0L).endpoint();
        assertThat(ctx.isExcluded(e)).as("%s returned excluded %s", policy, e).isFalse();
      }
    }
  }

  @ParameterizedTest
  @MethodSource("policies")
  void pick_callsPilingUp_reachEveryMember(BalancingPolicy policy) {
    // Calls stay in flight, so load-aware pickers too must move on to the lightest members.
    Candidates c = weighted(20);
    Picker picker = policy.newPicker(c, null);
    Set<Endpoint> seen = new HashSet<>();
    for (long key = 0; key < 20_000; key++) {
      Endpoint e = picker.pick(CallContext.builder().hashKey(key).build(), 0L).endpoint();
      TestEndpoints.hold(e, 1);
      seen.add(e);
    }
    assertThat(seen).hasSize(20);
  }

  @ParameterizedTest
  @MethodSource("policies")
  void newPicker_previousOfAnotherPolicy_isIgnored(BalancingPolicy policy) {
    Candidates c = uniform(3);
    Picker foreign = (ctx, now) -> PickResult.none();

    assertThat(policy.newPicker(c, foreign).pick(CallContext.DEFAULT, 0L).hasEndpoint()).isTrue();
  }

  /** {@code n} members with weights 1..n. */
  private static Candidates weighted(int n) {
    int[] w = new int[n];
    for (int i = 0; i < n; i++) {
      w[i] = i + 1;
    }
    return candidates(w);
  }
}
