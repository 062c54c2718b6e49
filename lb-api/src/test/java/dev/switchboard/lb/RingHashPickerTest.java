package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.candidates;
import static dev.switchboard.lb.PolicyFixtures.count;
import static dev.switchboard.lb.PolicyFixtures.seeded;
import static dev.switchboard.lb.PolicyFixtures.share;
import static dev.switchboard.lb.PolicyFixtures.uniform;
import static dev.switchboard.lb.PolicyFixtures.without;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RingHashPickerTest {
  private static final int KEYS = 100_000;

  @Test
  void newPicker_oneOfTenMembersLeaves_onlyItsKeysMove() {
    Candidates before = uniform(10);
    Candidates after = without(before, 3);
    RingHashPicker p1 = ring(before);
    RingHashPicker p2 = ring(after);

    int moved = 0;
    for (long key = 0; key < KEYS; key++) {
      Endpoint was = p1.owner(key);
      Endpoint now = p2.owner(key);
      if (was != now) {
        moved++;
        assertThat(was)
            .as("key %d moved away from a member that stayed", key)
            .isSameAs(before.endpoint(3));
      }
    }
    assertThat((double) moved / KEYS).isCloseTo(0.10, within(0.02));
  }

  @Test
  void newPicker_memberJoinsTen_takesAboutAnEleventhAndNothingElseMoves() {
    Candidates after = uniform(11);
    Candidates before = without(after, 10);
    RingHashPicker p1 = ring(before);
    RingHashPicker p2 = ring(after);

    int moved = 0;
    for (long key = 0; key < KEYS; key++) {
      Endpoint now = p2.owner(key);
      if (p1.owner(key) != now) {
        moved++;
        assertThat(now).isSameAs(after.endpoint(10));
      }
    }
    assertThat((double) moved / KEYS).isCloseTo(1 / 11.0, within(0.02));
  }

  @Test
  void pick_sameKey_sameMemberWhateverTheCandidateOrder() {
    Candidates c = uniform(6);
    Endpoint[] reversed = c.endpoints();
    for (int i = 0; i < reversed.length / 2; i++) {
      Endpoint t = reversed[i];
      reversed[i] = reversed[reversed.length - 1 - i];
      reversed[reversed.length - 1 - i] = t;
    }
    Picker p1 = RingHashPicker.create(c, null);
    Picker p2 = RingHashPicker.create(Candidates.of(reversed, c.weights()), null);

    for (long key = 0; key < 1000; key++) {
      CallContext ctx = CallContext.builder().hashKey(key).build();
      assertThat(p1.pick(ctx, 0L)).isSameAs(p2.pick(ctx, 0L)).isSameAs(p1.pick(ctx, 0L));
    }
  }

  @Test
  void pick_weights1to2to5_keysFollowWeights() {
    int[] w = {100, 200, 500};
    Candidates c = candidates(w);
    RingHashPicker picker = ring(c);
    int[] counts = new int[3];
    for (long key = 0; key < KEYS; key++) {
      Endpoint e = picker.owner(key);
      for (int i = 0; i < 3; i++) {
        counts[i] += e == c.endpoint(i) ? 1 : 0;
      }
    }
    for (int i = 0; i < 3; i++) {
      assertThat(share(counts, i)).isCloseTo(w[i] / 800.0, within(0.03));
    }
  }

  @Test
  void pick_ownerExcluded_goesWhereTheKeyWouldGoWithoutIt() {
    // Walking on to the next point of another member is exactly the ring without the owner, so
    // a retry lands on the member that takes over the key if the owner leaves.
    Candidates c = uniform(5);
    Picker picker = RingHashPicker.create(c, null);
    RingHashPicker withoutOwner = ring(without(c, 2));

    int rerouted = 0;
    for (long key = 0; key < 10_000; key++) {
      Exclusions ctx = Exclusions.of(CallContext.builder().hashKey(key).build());
      if (picker.pick(ctx, 0L).endpoint() == c.endpoint(2)) {
        ctx.exclude(c.endpoint(2));
        assertThat(picker.pick(ctx, 0L).endpoint()).isSameAs(withoutOwner.owner(key));
        rerouted++;
      }
    }
    assertThat(rerouted).isGreaterThan(1000);
  }

  @Test
  void pick_noHashKey_spreadsAtRandom() {
    Candidates c = uniform(4);
    Picker picker = RingHashPicker.create(c, null, seeded(1));

    int[] counts = count(picker, c, CallContext.DEFAULT, 100_000);

    for (int i = 0; i < 4; i++) {
      assertThat(share(counts, i)).isCloseTo(0.25, within(0.05));
    }
  }

  @Test
  void pick_keyFunction_routesByItsKey() {
    Candidates c = uniform(8);
    Picker byFunction = RingHashPicker.create(c, null, ctx -> 42L);
    Picker byKey = RingHashPicker.create(c, null);
    PickResult expected = byKey.pick(CallContext.builder().hashKey(42L).build(), 0L);

    for (int k = 0; k < 100; k++) {
      assertThat(byFunction.pick(CallContext.DEFAULT, 0L)).isSameAs(expected);
    }
  }

  @Test
  void create_ringSize_boundedForSmallAndLargeClusters() {
    assertThat(ring(uniform(3)).ringSize()).isEqualTo(3 * RingHashPicker.POINTS_PER_HEAVIEST);
    assertThat(ring(uniform(1000)).ringSize()).isBetween(100_000, RingHashPicker.MAX_POINTS);
    SplittableRandom random = new SplittableRandom(5);
    int[] w = new int[2000];
    for (int i = 0; i < w.length; i++) {
      w[i] = 1 + random.nextInt(10_000);
    }
    assertThat(ring(candidates(w)).ringSize()).isBetween(2000, RingHashPicker.MAX_POINTS + 2000);
  }

  @Test
  void ceilingPoint_bucketIndex_agreesWithBinarySearch() {
    SplittableRandom random = new SplittableRandom(9);
    for (Candidates c :
        new Candidates[] {uniform(1), uniform(3), candidates(1, 9, 40), uniform(1000)}) {
      RingHashPicker picker = ring(c);
      long[] probes = new long[200_000];
      for (int i = 0; i < probes.length; i++) {
        probes[i] =
            switch (i % 4) {
              case 0 -> picker.point(random.nextInt(picker.ringSize())) & ~0xFFFFFL; // a point
              case 1 -> (picker.point(random.nextInt(picker.ringSize())) & ~0xFFFFFL) + (1 << 20);
              default -> random.nextLong() & ~0xFFFFFL;
            };
      }
      probes[0] = Long.MIN_VALUE;
      probes[1] = Long.MAX_VALUE & ~0xFFFFFL;
      for (long p : probes) {
        assertThat(picker.ceilingPointByIndex(p))
            .as("position %x", p)
            .isEqualTo(picker.ceilingPointBySearch(p));
      }
    }
  }

  private static RingHashPicker ring(Candidates c) {
    return (RingHashPicker) RingHashPicker.create(c, null);
  }
}
