package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.candidates;
import static dev.switchboard.lb.PolicyFixtures.count;
import static dev.switchboard.lb.PolicyFixtures.excluding;
import static dev.switchboard.lb.PolicyFixtures.seeded;
import static dev.switchboard.lb.PolicyFixtures.share;
import static dev.switchboard.lb.PolicyFixtures.simulate;
import static dev.switchboard.lb.PolicyFixtures.uniform;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LeastConnectionsPickerTest {
  private static final long MS = 1_000_000L;

  @Test
  void pick_twoMembers_neverSamplesTheSameMemberTwice() {
    // If both samples could be the same member (Envoy#11004), the busier one would win every pick
    // that sampled it twice: about a quarter of them.
    Candidates c = uniform(2);
    TestEndpoints.hold(c.endpoint(1), 1);
    Picker picker = LeastConnectionsPicker.create(c, null, seeded(1));

    assertThat(count(picker, c, CallContext.DEFAULT, 100_000)).containsExactly(100_000, 0);
  }

  @Test
  void pick_memberWithHighInFlight_getsUnderFivePercent() {
    Candidates c = uniform(5);
    TestEndpoints.hold(c.endpoint(0), 50); // stuck calls on member 0
    Picker picker = LeastConnectionsPicker.create(c, null, seeded(2));
    long[] latency = new long[5];
    Arrays.fill(latency, MS);
    Outcome[] outcomes = new Outcome[5];
    Arrays.fill(outcomes, Outcome.SUCCESS);

    // A call every 50 µs, each lasting 1 ms: about 20 calls in flight over the other four.
    int[] counts = simulate(picker, c, 100_000, 50_000, latency, outcomes);

    assertThat(share(counts, 0)).isLessThan(0.05);
    for (int i = 1; i < 5; i++) {
      assertThat(share(counts, i)).isBetween(0.20, 0.30);
    }
  }

  @Test
  void pick_idleMembersOfDifferentWeight_prefersTheHeavier() {
    Candidates c = candidates(1, 4);
    Picker picker = LeastConnectionsPicker.create(c, null, seeded(3));

    assertThat(count(picker, c, CallContext.DEFAULT, 1000)).containsExactly(0, 1000);
  }

  @Test
  void pick_weights3to1UnderLoad_inFlightFollowsWeights() {
    Candidates c = candidates(300, 100);
    Picker picker = LeastConnectionsPicker.create(c, null, seeded(4));
    long[] latency = {MS, MS};
    Outcome[] outcomes = {Outcome.SUCCESS, Outcome.SUCCESS};

    int[] counts = simulate(picker, c, 100_000, 25_000, latency, outcomes);

    assertThat(share(counts, 0)).isBetween(0.70, 0.80);
  }

  @Test
  void pick_sampledMemberExcluded_picksAmongTheOthers() {
    Candidates c = uniform(3);
    Picker picker = LeastConnectionsPicker.create(c, null, seeded(5));

    int[] counts = count(picker, c, excluding(c.endpoint(1)), 30_000);

    assertThat(counts[1]).isZero();
    assertThat(counts[0]).isBetween(12_000, 18_000);
  }

  @Test
  void pick_oneMember_returnsItUnlessExcluded() {
    Candidates c = uniform(1);
    Picker picker = LeastConnectionsPicker.create(c, null);

    assertThat(picker.pick(CallContext.DEFAULT, 0L).endpoint()).isSameAs(c.endpoint(0));
    assertThat(picker.pick(excluding(c.endpoint(0)), 0L)).isSameAs(PickResult.none());
  }

  @Test
  void twoChoices_choose_followsTheSignOfThePreference() {
    assertThat(TwoChoices.choose(3, 9, 0L)).isEqualTo(3);
    assertThat(TwoChoices.choose(3, 9, 1L)).isEqualTo(3);
    assertThat(TwoChoices.choose(3, 9, Long.MAX_VALUE)).isEqualTo(3);
    assertThat(TwoChoices.choose(3, 9, -1L)).isEqualTo(9);
    assertThat(TwoChoices.choose(3, 9, Long.MIN_VALUE)).isEqualTo(9);
    assertThat(TwoChoices.choose(0, 999_999, -5L)).isEqualTo(999_999);
  }

  @Test
  void twoChoices_secondSample_isDistinctAndUniformOverTheOthers() {
    RandomSource random = seeded(6);
    for (int n = 2; n <= 12; n++) {
      int[][] pairs = new int[n][n];
      int draws = 20_000 * n;
      for (int k = 0; k < draws; k++) {
        long r = random.nextLong();
        int a = TwoChoices.first(r, n);
        int b = TwoChoices.second(r, n, a);
        assertThat(b).isNotEqualTo(a).isBetween(0, n - 1);
        pairs[a][b]++;
      }
      double expected = (double) draws / (n * (n - 1));
      for (int a = 0; a < n; a++) {
        for (int b = 0; b < n; b++) {
          if (a != b) {
            assertThat(pairs[a][b])
                .as("n=%d pair %d,%d", n, a, b)
                .isBetween((int) (expected * 0.85), (int) (expected * 1.15));
          }
        }
      }
    }
  }
}
