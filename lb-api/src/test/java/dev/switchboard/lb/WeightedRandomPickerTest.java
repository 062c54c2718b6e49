package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.candidates;
import static dev.switchboard.lb.PolicyFixtures.count;
import static dev.switchboard.lb.PolicyFixtures.excluding;
import static dev.switchboard.lb.PolicyFixtures.seeded;
import static dev.switchboard.lb.PolicyFixtures.share;
import static dev.switchboard.lb.PolicyFixtures.uniform;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class WeightedRandomPickerTest {

  @Test
  void pick_100kPicksOverWeights_matchWeightsWithinOnePercent() {
    int[] w = {1, 2, 3, 4, 10};
    Candidates c = candidates(w);
    Picker picker = WeightedRandomPicker.create(c, null, seeded(1));

    int[] counts = count(picker, c, CallContext.DEFAULT, 100_000);

    for (int i = 0; i < w.length; i++) {
      assertThat(share(counts, i)).isCloseTo(w[i] / 20.0, within(0.01));
    }
  }

  @Test
  void pick_equalWeights_spreadsEvenly() {
    Candidates c = uniform(4);
    Picker picker = WeightedRandomPicker.create(c, null, seeded(2));

    int[] counts = count(picker, c, CallContext.DEFAULT, 100_000);

    for (int i = 0; i < 4; i++) {
      assertThat(share(counts, i)).isCloseTo(0.25, within(0.01));
    }
  }

  @Test
  void create_1000RandomWeights_aliasTableHoldsExactlyEachWeight() {
    SplittableRandom random = new SplittableRandom(3);
    int[] w = new int[1000];
    for (int i = 0; i < w.length; i++) {
      w[i] = 1 + random.nextInt(10_000);
    }
    WeightedRandomPicker picker =
        (WeightedRandomPicker) WeightedRandomPicker.create(candidates(w), null);

    for (int i = 0; i < w.length; i++) {
      assertThat(picker.tableMass(i)).as("member %d", i).isEqualTo((long) w[i] * w.length);
    }
  }

  @Test
  void pick_allButOneExcluded_returnsIt() {
    Candidates c = candidates(5, 1, 9, 3);
    Picker picker = WeightedRandomPicker.create(c, null, seeded(5));
    PickArgs ctx = excluding(c.endpoint(0), c.endpoint(2), c.endpoint(3));

    assertThat(count(picker, c, ctx, 1000)).containsExactly(0, 1000, 0, 0);
  }

  @Test
  void pick_heaviestMemberExcluded_spreadsOverTheRestByWeight() {
    Candidates c = candidates(1, 2, 7);
    Picker picker = WeightedRandomPicker.create(c, null, seeded(4));

    int[] counts = count(picker, c, excluding(c.endpoint(2)), 100_000);

    // 24% of picks ((0.7)^4) fall through the redraws to the draw over the remaining weight.
    assertThat(counts[2]).isZero();
    assertThat(share(counts, 1)).isCloseTo(2 / 3.0, within(0.01));
  }
}
