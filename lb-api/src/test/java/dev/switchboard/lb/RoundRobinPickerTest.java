package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.candidates;
import static dev.switchboard.lb.PolicyFixtures.count;
import static dev.switchboard.lb.PolicyFixtures.excluding;
import static dev.switchboard.lb.PolicyFixtures.indexOf;
import static dev.switchboard.lb.PolicyFixtures.uniform;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RoundRobinPickerTest {
  /** Every stripe of the cursor starts at position 0. */
  private static final RandomSource ZERO = () -> 0L;

  @Test
  void pick_weights5to1to1_interleavesLikeNginx() {
    Candidates c = candidates(5, 1, 1);
    Picker picker = RoundRobinPicker.create(c, null, ZERO);

    assertThat(sequence(picker, c, 14)).isEqualTo("aabacaa" + "aabacaa");
  }

  @Test
  void pick_weights5to1to1_hasNoBursts() {
    // A naive weighted round robin gives a a a a a b c: five in a row. nginx's order never lets a
    // member's count over any window stray two or more from its share.
    Candidates c = candidates(5, 1, 1);
    Picker picker = RoundRobinPicker.create(c, null, ZERO);

    assertThat(sequence(picker, c, 7)).doesNotContain("aaa");
    assertThat(maxWindowDeviation((RoundRobinPicker) picker, c)).isLessThan(2.0);
  }

  @Test
  void pick_assortedWeights_stayWithinTwoOfTheirShareOverAnyWindow() {
    SplittableRandom random = new SplittableRandom(7);
    for (int round = 0; round < 20; round++) {
      int[] w = new int[2 + random.nextInt(12)];
      for (int i = 0; i < w.length; i++) {
        w[i] = 1 + random.nextInt(40);
      }
      Candidates c = candidates(w);
      RoundRobinPicker picker = (RoundRobinPicker) RoundRobinPicker.create(c, null, ZERO);
      assertThat(maxWindowDeviation(picker, c)).as("weights %s", c).isLessThan(2.0);
    }
  }

  @Test
  void pick_100kPicksOverWeights5to3to2_matchWeightsExactly() {
    Candidates c = candidates(50, 30, 20);
    Picker picker = RoundRobinPicker.create(c, null);

    assertThat(count(picker, c, CallContext.DEFAULT, 100_000))
        .containsExactly(50_000, 30_000, 20_000);
  }

  @Test
  void create_weightsWithCommonFactor_reducesScheduleByGcd() {
    RoundRobinPicker picker =
        (RoundRobinPicker) RoundRobinPicker.create(candidates(300, 200, 100), null);

    assertThat(picker.scheduleLength()).isEqualTo(6);
  }

  @Test
  void create_equalWeights_usesIdentitySchedule() {
    Candidates c = uniform(1000);
    RoundRobinPicker picker = (RoundRobinPicker) RoundRobinPicker.create(c, null);

    assertThat(picker.scheduleLength()).isEqualTo(1000);
    for (int i = 0; i < 1000; i++) {
      assertThat(picker.scheduled(i)).isSameAs(c.endpoint(i));
    }
  }

  @Test
  void create_1000MembersInSlowStart_boundsScheduleAndKeepsShares() {
    // Weights 50..100 (slow start ramping) sum to ~75k, more than the schedule holds: they are
    // scaled down, rounding each member's share by at most half a slot, and spread Sainte-Laguë
    // style because nginx's O(n) per slot would cost too much at this size.
    SplittableRandom random = new SplittableRandom(3);
    int[] w = new int[1000];
    long total = 0;
    for (int i = 0; i < w.length; i++) {
      w[i] = 50 + random.nextInt(51);
      total += w[i];
    }
    Candidates c = candidates(w);
    RoundRobinPicker picker = (RoundRobinPicker) RoundRobinPicker.create(c, null);

    int len = picker.scheduleLength();
    assertThat(len)
        .isBetween(RoundRobinPicker.MAX_SCHEDULE / 2, RoundRobinPicker.MAX_SCHEDULE + 1000);
    int[] slots = new int[c.size()];
    Map<Endpoint, Integer> index = indexOf(c);
    for (int p = 0; p < len; p++) {
      slots[index.get(picker.scheduled(p))]++;
    }
    for (int i = 0; i < c.size(); i++) {
      double expected = (double) w[i] / total;
      assertThat((double) slots[i] / len)
          .isCloseTo(expected, org.assertj.core.data.Percentage.withPercentage(1.5));
    }
    assertThat(maxWindowDeviation(picker, c)).isLessThan(2.0);
  }

  @Test
  void create_manyClients_startAtRandomOffsets() {
    // With a shared or reset counter every client restarted by a deploy sends its first call to
    // the same member (grpc-java PR #4462).
    Candidates c = uniform(10);
    Set<Endpoint> first = new HashSet<>();
    for (int client = 0; client < 200; client++) {
      first.add(RoundRobinPicker.create(c, null).pick(CallContext.DEFAULT, 0L).endpoint());
    }

    assertThat(first).hasSizeGreaterThanOrEqualTo(8);
  }

  @Test
  void create_withPreviousPicker_continuesTheSequence() {
    Candidates c = candidates(5, 1, 1);
    Picker first = RoundRobinPicker.create(c, null, ZERO);
    assertThat(sequence(first, c, 2)).isEqualTo("aa");

    Picker rebuilt = RoundRobinPicker.create(c, first, ZERO);
    Picker fresh = RoundRobinPicker.create(c, null, ZERO);

    assertThat(sequence(rebuilt, c, 5)).isEqualTo("bacaa");
    assertThat(sequence(fresh, c, 1)).isEqualTo("a");
  }

  @Test
  void create_previousWithLongerSchedule_keepsPickingValidMembers() {
    Candidates big = uniform(50);
    Picker first = RoundRobinPicker.create(big, null);
    for (int k = 0; k < 37; k++) {
      first.pick(CallContext.DEFAULT, 0L);
    }
    Candidates small = PolicyFixtures.without(PolicyFixtures.without(big, 0), 0);
    Candidates tiny = Candidates.of(new Endpoint[] {small.endpoint(0)}, new int[] {1});
    Picker rebuilt = RoundRobinPicker.create(tiny, first);

    assertThat(rebuilt.pick(CallContext.DEFAULT, 0L).endpoint()).isSameAs(small.endpoint(0));
  }

  @Test
  void pick_scheduledMemberExcluded_advancesToTheNextSlot() {
    Candidates c = candidates(5, 1, 1);
    Picker picker = RoundRobinPicker.create(c, null, ZERO);
    PickArgs ctx = excluding(c.endpoint(0));

    // a a b a c a a without a: b, c, b, c ...
    assertThat(sequence(picker, c, ctx, 4)).isEqualTo("bcbc");
  }

  private static String sequence(Picker picker, Candidates c, int picks) {
    return sequence(picker, c, CallContext.DEFAULT, picks);
  }

  private static String sequence(Picker picker, Candidates c, PickArgs ctx, int picks) {
    Map<Endpoint, Integer> index = indexOf(c);
    StringBuilder sb = new StringBuilder();
    for (int k = 0; k < picks; k++) {
      sb.append((char) ('a' + index.get(picker.pick(ctx, 0L).endpoint())));
    }
    return sb.toString();
  }

  /**
   * The largest difference, over every window of the cyclic schedule and every member, between the
   * member's count in the window and its share of the window: the spread of prefix lags.
   */
  private static double maxWindowDeviation(RoundRobinPicker picker, Candidates c) {
    int len = picker.scheduleLength();
    Map<Endpoint, Integer> index = indexOf(c);
    int[] member = new int[len];
    int[] slots = new int[c.size()];
    for (int p = 0; p < len; p++) {
      member[p] = index.get(picker.scheduled(p));
      slots[member[p]]++;
    }
    double worst = 0;
    for (int i = 0; i < c.size(); i++) {
      double rate = (double) slots[i] / len;
      double lag = 0;
      double min = 0;
      double max = 0;
      for (int p = 0; p < len; p++) {
        lag += (member[p] == i ? 1 : 0) - rate;
        min = Math.min(min, lag);
        max = Math.max(max, lag);
      }
      worst = Math.max(worst, max - min);
    }
    return worst;
  }
}
