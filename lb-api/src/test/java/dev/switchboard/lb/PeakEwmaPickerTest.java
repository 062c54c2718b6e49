package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.candidates;
import static dev.switchboard.lb.PolicyFixtures.count;
import static dev.switchboard.lb.PolicyFixtures.excluding;
import static dev.switchboard.lb.PolicyFixtures.indexOf;
import static dev.switchboard.lb.PolicyFixtures.seeded;
import static dev.switchboard.lb.PolicyFixtures.share;
import static dev.switchboard.lb.PolicyFixtures.simulate;
import static dev.switchboard.lb.PolicyFixtures.uniform;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PeakEwmaPickerTest {
  private static final long MS = 1_000_000L;
  private static final Outcome[] ALL_SUCCEED = {Outcome.SUCCESS, Outcome.SUCCESS, Outcome.SUCCESS};

  @Test
  void pick_memberTenTimesSlower_getsLittleTraffic() {
    Candidates c = uniform(3);
    Picker picker = PeakEwmaPicker.create(c, null, seeded(1));

    // A call every 100 µs for 10 s; member 2 answers in 10 ms, the others in 1 ms.
    int[] counts = simulate(picker, c, 100_000, 100_000, new long[] {MS, MS, 10 * MS}, ALL_SUCCEED);

    assertThat(share(counts, 2)).isLessThan(0.02);
    assertThat(share(counts, 0)).isBetween(0.42, 0.52);
  }

  @Test
  void pick_sameLatencies_spreadsEvenly() {
    // The control for the test above: the simulation itself does not starve member 2.
    Candidates c = uniform(3);
    Picker picker = PeakEwmaPicker.create(c, null, seeded(2));

    int[] counts = simulate(picker, c, 100_000, 100_000, new long[] {MS, MS, MS}, ALL_SUCCEED);

    for (int i = 0; i < 3; i++) {
      assertThat(share(counts, i)).isBetween(0.30, 0.37);
    }
  }

  @Test
  void pick_memberThatFailsFast_getsAlmostNoTraffic() {
    // Member 2 refuses connections within a microsecond. Judged by latency alone it would look
    // like the fastest member and attract traffic; failures count as the failure penalty instead.
    Candidates c = uniform(3);
    Picker picker = PeakEwmaPicker.create(c, null, seeded(3));
    Outcome[] outcomes = {Outcome.SUCCESS, Outcome.SUCCESS, Outcome.CONNECT_FAILURE};

    int[] counts = simulate(picker, c, 100_000, 100_000, new long[] {MS, MS, 1_000}, outcomes);

    assertThat(share(counts, 2)).isLessThan(0.01);
  }

  @Test
  void pick_memberTurnsSlow_isRankedBehindTheFastOnesAfterItsFirstSlowAnswer() {
    // Peak sensitivity survives the faster forgetting: after a second of 0.2 ms answers from all
    // three, member 2's first 20 ms answer puts it behind both others at once.
    Candidates c = uniform(3);
    long now = 1_000_000_000L;
    for (int k = 0; k < 3000; k++) {
      now += MS / 3;
      TestEndpoints.record(c.endpoint(k % 3), Outcome.SUCCESS, MS / 5, now);
    }
    TestEndpoints.record(c.endpoint(2), Outcome.SUCCESS, 20 * MS, now);
    Picker picker = PeakEwmaPicker.create(c, null, seeded(6));

    assertThat(c.endpoint(2).cost(now)).isGreaterThan(50 * c.endpoint(0).cost(now));
    Map<Endpoint, Integer> index = indexOf(c);
    int[] counts = new int[3];
    for (int k = 0; k < 1000; k++) {
      counts[index.get(picker.pick(CallContext.DEFAULT, now).endpoint())]++;
    }
    assertThat(counts[2]).isZero();
    assertThat(counts[0]).isPositive();
    assertThat(counts[1]).isPositive();
  }

  @Test
  void pick_equalCosts_prefersTheHeavierMember() {
    Candidates c = candidates(1, 4);
    long now = 5_000_000_000L;
    TestEndpoints.record(c.endpoint(0), Outcome.SUCCESS, MS, now);
    TestEndpoints.record(c.endpoint(1), Outcome.SUCCESS, MS, now);
    Picker picker = PeakEwmaPicker.create(c, null, seeded(4));

    int heavier = 0;
    for (int k = 0; k < 1000; k++) {
      heavier += picker.pick(CallContext.DEFAULT, now).endpoint() == c.endpoint(1) ? 1 : 0;
    }
    assertThat(heavier).isEqualTo(1000);
  }

  @Test
  void pick_twoMembers_neverSamplesTheSameMemberTwice() {
    Candidates c = uniform(2);
    TestEndpoints.record(c.endpoint(0), Outcome.SUCCESS, MS, 0L);
    TestEndpoints.record(c.endpoint(1), Outcome.SUCCESS, 2 * MS, 0L);
    Picker picker = PeakEwmaPicker.create(c, null, seeded(5));

    assertThat(count(picker, c, CallContext.DEFAULT, 100_000)).containsExactly(100_000, 0);
  }

  @Test
  void pick_excludedCheaperMember_picksTheOther() {
    Candidates c = uniform(2);
    TestEndpoints.record(c.endpoint(1), Outcome.SUCCESS, 9 * MS, 0L);
    Picker picker = PeakEwmaPicker.create(c, null);

    assertThat(picker.pick(excluding(c.endpoint(0)), 0L).endpoint()).isSameAs(c.endpoint(1));
    assertThat(picker.pick(excluding(c.endpoint(0), c.endpoint(1)), 0L))
        .isSameAs(PickResult.none());
  }
}
