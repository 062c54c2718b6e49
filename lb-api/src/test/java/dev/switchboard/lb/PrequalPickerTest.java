package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.excluding;
import static dev.switchboard.lb.PolicyFixtures.seeded;
import static dev.switchboard.lb.PolicyFixtures.uniform;
import static dev.switchboard.lb.PolicyFixtures.without;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrequalPickerTest {
  private static final long MS = 1_000_000L;

  /** A prober that only records where probes went; the test answers for the servers. */
  private static final class RecordingProber implements Prequal.Prober {
    final List<Endpoint> probed = new ArrayList<>();
    Prequal.Replies replies;

    @Override
    public void probe(Endpoint endpoint, Prequal.Replies replies) {
      probed.add(endpoint);
      this.replies = replies;
    }

    void answer(Endpoint e, int rif, long latencyNanos, long now) {
      replies.accept(e, rif, latencyNanos, now);
    }
  }

  private final RecordingProber prober = new RecordingProber();

  private Picker picker(Candidates c, Prequal.Builder builder) {
    return builder.build(seeded(7)).newPicker(c, null);
  }

  private Picker picker(Candidates c) {
    return picker(c, Prequal.builder(prober));
  }

  @Test
  void pick_withoutAnswers_fallsBackToLeastConnections() {
    Candidates c = uniform(2);
    TestEndpoints.hold(c.endpoint(0), 5);
    Picker picker = picker(c);

    for (int i = 0; i < 100; i++) {
      assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(1));
    }
  }

  @Test
  void pick_sendsTheConfiguredProbesPerCall_offTheCallersAnswers() {
    Candidates c = uniform(10);
    // All picks at one instant: a budget that does not hold any back.
    Picker whole =
        picker(c, Prequal.builder(prober).probesPerCall(2).maxProbesPerSecond(1_000_000));
    for (int i = 0; i < 1000; i++) {
      whole.pick(CallContext.DEFAULT, 0);
    }
    assertThat(prober.probed).hasSize(2000);

    prober.probed.clear();
    Picker fractional =
        picker(c, Prequal.builder(prober).probesPerCall(0.5).maxProbesPerSecond(1_000_000));
    for (int i = 0; i < 10_000; i++) {
      fractional.pick(CallContext.DEFAULT, 0);
    }
    assertThat(prober.probed.size()).isBetween(4500, 5500);
    assertThat(prober.probed).containsAll(List.of(c.endpoints()));
  }

  @Test
  void pick_coldMembers_lowestLatencyWins_hotMemberSkippedDespiteItsLatency() {
    Candidates c = uniform(4);
    Picker picker = picker(c);
    picker.pick(CallContext.DEFAULT, 0); // a probe went out: the replies sink is known
    prober.answer(c.endpoint(0), 1, 5 * MS, 0);
    prober.answer(c.endpoint(1), 1, 1 * MS, 0);
    prober.answer(c.endpoint(2), 1, 4 * MS, 0);
    prober.answer(c.endpoint(3), 40, MS / 10, 0); // hot: above the 0.84 quantile of 1, 1, 1, 40

    assertThat(picker.pick(CallContext.DEFAULT, MS).endpoint()).isSameAs(c.endpoint(1));
  }

  @Test
  void pick_aBusyMemberHoldingTheQuantilesRank_isStillHot() {
    // 5 members, one busy: its answers are more than the 16% the quantile expects to be hot, so
    // the threshold lands on its own RIF. It must not count as cold for sitting at the threshold.
    Candidates c = uniform(5);
    Picker picker = picker(c, Prequal.builder(prober).probesPerCall(0).maxUses(100));
    Prequal.Replies pool = ((PrequalPicker) picker).pool();
    pool.accept(c.endpoint(0), 0, 3 * MS, 0);
    pool.accept(c.endpoint(1), 0, 2 * MS, 0);
    pool.accept(c.endpoint(2), 1, 3 * MS, 0);
    pool.accept(c.endpoint(3), 1, 3 * MS, 0);
    pool.accept(c.endpoint(4), 6, MS / 10, 0);
    pool.accept(c.endpoint(4), 6, MS / 10, 0); // threshold: 5th smallest of 0 0 1 1 6 6 = 6

    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(1));
  }

  @Test
  void pick_anAnswerPlacesMaxUsesCalls_thenIsDropped() {
    Candidates c = uniform(3);
    Picker picker = picker(c, Prequal.builder(prober).probesPerCall(0).maxUses(2));
    // probesPerCall 0: no probe goes out, so the test answers straight into the pool.
    Prequal.Replies pool = ((PrequalPicker) picker).pool();
    pool.accept(c.endpoint(0), 0, MS, 0);
    TestEndpoints.hold(c.endpoint(0), 9); // so the fallback, least connections, avoids it

    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(0));
    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(0));
    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isNotSameAs(c.endpoint(0));
  }

  @Test
  void pick_anAnswersRifFollowsThisClientsOwnCallsInFlight_upAndDown() {
    Candidates c = uniform(2);
    Picker picker = picker(c, Prequal.builder(prober).probesPerCall(0).maxUses(100));
    Prequal.Replies pool = ((PrequalPicker) picker).pool();
    pool.accept(c.endpoint(0), 0, MS, 0);
    pool.accept(c.endpoint(1), 2, 2 * MS, 0);

    // 0 then 2: endpoint 0 is the least loaded until three calls in flight on it make it 3.
    for (int i = 0; i < 3; i++) {
      Endpoint e = picker.pick(CallContext.DEFAULT, 0).endpoint();
      assertThat(e).as("pick %d", i).isSameAs(c.endpoint(0));
      TestEndpoints.hold(e, 1); // what the call's lease does
    }
    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(1));
    // Those calls end: endpoint 0 is back to its answer's load, and the least loaded again.
    TestEndpoints.releaseHeld(c.endpoint(0), 3);
    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(0));
  }

  @Test
  void probes_areCappedAtMaxProbesPerSecond_andCappedPicksReuseAnswers() {
    Candidates c = uniform(4);
    Picker picker =
        picker(c, Prequal.builder(prober).probesPerCall(1).maxUses(1).maxProbesPerSecond(100));

    // 1,000 picks within one instant: a tenth of a second's budget (10 probes) and no more.
    for (int i = 0; i < 1000; i++) {
      picker.pick(CallContext.DEFAULT, 0);
    }
    assertThat(prober.probed).hasSizeBetween(10, 11);
    // Over the next second, about 100 more.
    for (int ms = 1; ms <= 1000; ms++) {
      picker.pick(CallContext.DEFAULT, ms * MS);
    }
    assertThat(prober.probed.size()).isBetween(105, 115);

    // The budget is spent: one answer keeps placing calls past maxUses.
    prober.answer(c.endpoint(2), 0, MS, 1000 * MS);
    for (int i = 0; i < 5; i++) {
      assertThat(picker.pick(CallContext.DEFAULT, 1000 * MS).endpoint()).isSameAs(c.endpoint(2));
    }
  }

  @Test
  void pick_answersOlderThanMaxAge_areNotUsed() {
    Candidates c = uniform(2);
    Picker picker = picker(c, Prequal.builder(prober).maxAge(Duration.ofMillis(500)).maxUses(100));
    picker.pick(CallContext.DEFAULT, 0);
    prober.answer(c.endpoint(0), 0, MS, 0);
    TestEndpoints.hold(c.endpoint(0), 3); // least connections would pick endpoint 1

    assertThat(picker.pick(CallContext.DEFAULT, 400 * MS).endpoint()).isSameAs(c.endpoint(0));
    assertThat(picker.pick(CallContext.DEFAULT, 501 * MS).endpoint()).isSameAs(c.endpoint(1));
  }

  @Test
  void pick_memberWhoseLastCallFailedFast_isNotChosenOverOthers_noSinkhole() {
    // A member that fails at once reports an empty queue and the lowest latency.
    Candidates c = uniform(3);
    Picker picker = picker(c, Prequal.builder(prober).probesPerCall(0).maxUses(100));
    Prequal.Replies pool = ((PrequalPicker) picker).pool();
    pool.accept(c.endpoint(0), 0, MS / 100, 0);
    pool.accept(c.endpoint(1), 2, 3 * MS, 0);
    pool.accept(c.endpoint(2), 3, 4 * MS, 0);
    TestEndpoints.record(c.endpoint(0), Outcome.TRANSPORT_FAILURE, MS / 100, 0);

    for (int i = 0; i < 10; i++) {
      assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isNotSameAs(c.endpoint(0));
    }
    TestEndpoints.record(c.endpoint(0), Outcome.SUCCESS, MS / 100, 0);
    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(0));
    // A timeout is slow, not a sinkhole: the member's answer still counts.
    TestEndpoints.record(c.endpoint(0), Outcome.TIMEOUT, 5000 * MS, 0);
    assertThat(picker.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(0));
  }

  @Test
  void pick_honoursExclusions_andDropsAnswersOfMembersThatLeft() {
    Candidates c = uniform(3);
    Picker picker = picker(c, Prequal.builder(prober).probesPerCall(0).maxUses(100));
    Prequal.Replies pool = ((PrequalPicker) picker).pool();
    pool.accept(c.endpoint(0), 0, MS, 0);
    pool.accept(c.endpoint(1), 0, 2 * MS, 0);

    assertThat(picker.pick(excluding(c.endpoint(0)), 0).endpoint()).isSameAs(c.endpoint(1));

    Candidates smaller = without(c, 0);
    Picker rebuilt =
        Prequal.builder(prober)
            .probesPerCall(0)
            .maxUses(100)
            .build(seeded(7))
            .newPicker(smaller, null);
    Picker carried =
        Prequal.builder(prober)
            .probesPerCall(0)
            .maxUses(100)
            .build(seeded(7))
            .newPicker(smaller, picker);
    assertThat(((PrequalPicker) carried).pool()).isSameAs(((PrequalPicker) picker).pool());
    assertThat(((PrequalPicker) rebuilt).pool()).isNotSameAs(((PrequalPicker) picker).pool());
    assertThat(carried.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(1));
    pool.accept(c.endpoint(0), 0, MS / 10, 0); // an answer from the member that left: dropped
    assertThat(carried.pick(CallContext.DEFAULT, 0).endpoint()).isSameAs(c.endpoint(1));
  }

  @Test
  void loadTracker_answersRifAndTheLatencyAtThatLoad_fromTheLastSecondOnly() {
    Prequal.LoadTracker tracker = new Prequal.LoadTracker();
    assertThat(tracker.latencyNanos(0)).isZero();

    int first = tracker.begin(); // level 0
    int second = tracker.begin(); // level 1
    assertThat(tracker.requestsInFlight()).isEqualTo(2);
    tracker.end(first, MS, 10 * MS);
    tracker.end(second, 8 * MS, 10 * MS);

    assertThat(tracker.requestsInFlight()).isZero();
    assertThat(tracker.latencyNanos(20 * MS)).isEqualTo(MS);
    tracker.begin();
    assertThat(tracker.latencyNanos(20 * MS)).isEqualTo(8 * MS);
    tracker.begin();
    tracker.begin();
    assertThat(tracker.latencyNanos(20 * MS))
        .as("no sample at level 3: level 1's")
        .isEqualTo(8 * MS);
    assertThat(tracker.latencyNanos(1011 * MS)).as("a second later: unknown").isZero();
  }

  @Test
  void builder_rejectsBadSettings_namingTheValue() {
    Prequal.Builder b = Prequal.builder(prober);
    assertThatThrownBy(() -> b.probesPerCall(-1))
        .hasMessageContaining("probesPerCall")
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> b.poolSize(1))
        .hasMessageContaining("poolSize must be in [2, 64], was 1");
    assertThatThrownBy(() -> b.hotQuantile(0)).hasMessageContaining("hotQuantile");
    assertThatThrownBy(() -> b.maxAge(Duration.ZERO)).hasMessageContaining("maxAge");
    assertThatThrownBy(() -> b.maxUses(0)).hasMessageContaining("maxUses");
  }
}
