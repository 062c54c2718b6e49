package dev.switchboard.lb;

import static dev.switchboard.lb.ClusterFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The per-call hook: what it hears, when, and that a cluster without one skips it. */
class CallListenerTest {
  private final ClusterFixture f = new ClusterFixture();

  /** One call as a listener heard it. */
  record Heard(String event, Lease lease, String detail, long latencyNanos) {}

  /** Records calls and membership, as a metrics binding would. */
  static final class Recorder implements ClusterListener, CallListener {
    final List<Heard> heard = new CopyOnWriteArrayList<>();
    final List<Integer> inFlightWhenFinished = new CopyOnWriteArrayList<>();

    @Override
    public void callStarted(Lease lease, Candidates candidates) {
      List<String> addresses =
          Arrays.stream(candidates.endpoints()).map(Endpoint::address).toList();
      heard.add(new Heard("started", lease, String.join(",", addresses), 0));
    }

    @Override
    public void callFinished(Lease lease, Outcome outcome, long latencyNanos) {
      inFlightWhenFinished.add(lease.endpoint().inFlight());
      heard.add(new Heard("finished", lease, outcome.name(), latencyNanos));
    }
  }

  @Test
  void withoutCallListeners_leasesCarryNone_soTheClusterSkipsTheHook() {
    f.addMembers(9001, 2);
    ClusterListener membershipOnly = new ClusterListener() {};
    try (Cluster cluster = f.builder().listener(membershipOnly).build();
        Lease lease = cluster.acquire()) {
      assertThat(lease.callListener()).isSameAs(CallListener.NONE);
    }
  }

  @Test
  void builderListener_hearsEveryPickAndOutcome_withTheLeaseLatency() {
    f.addMembers(9001, 3);
    Recorder recorder = new Recorder();
    try (Cluster cluster = f.builder().listener(recorder).build()) {
      Lease first = cluster.acquire();
      f.clock.advance(Duration.ofMillis(7));
      first.complete(Outcome.TIMEOUT);

      Lease second = cluster.acquire();
      second.complete(Outcome.APPLICATION_ERROR, TimeUnit.MILLISECONDS.toNanos(300));

      Lease third = cluster.acquire();
      f.clock.advance(Duration.ofMillis(4));
      third.close(); // no outcome: CANCELLED, timed as held

      assertThat(recorder.heard)
          .extracting(Heard::event, Heard::lease, Heard::detail, Heard::latencyNanos)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(
                  "started", first, "127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003", 0L),
              org.assertj.core.groups.Tuple.tuple(
                  "finished", first, "TIMEOUT", TimeUnit.MILLISECONDS.toNanos(7)),
              org.assertj.core.groups.Tuple.tuple(
                  "started", second, "127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003", 0L),
              org.assertj.core.groups.Tuple.tuple(
                  "finished", second, "APPLICATION_ERROR", TimeUnit.MILLISECONDS.toNanos(300)),
              org.assertj.core.groups.Tuple.tuple(
                  "started", third, "127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003", 0L),
              org.assertj.core.groups.Tuple.tuple(
                  "finished", third, "CANCELLED", TimeUnit.MILLISECONDS.toNanos(4)));
      // Heard before the in-flight slot is given back, so the endpoint cannot have left yet.
      assertThat(recorder.inFlightWhenFinished).containsOnly(1);
      assertThat(cluster.snapshot().endpoints()).allMatch(e -> e.inFlight() == 0);
    }
  }

  @Test
  void addedListener_hearsLaterLeases_removedOne_stillHearsLeasesAcquiredBefore() {
    f.addMembers(9001, 2);
    Recorder recorder = new Recorder();
    try (Cluster cluster = f.builder().build()) {
      Lease before = cluster.acquire();
      assertThat(before.callListener()).isSameAs(CallListener.NONE);

      cluster.addListener(recorder);
      Lease during = cluster.acquire();
      before.complete(Outcome.SUCCESS); // acquired before: not heard

      cluster.removeListener(recorder);
      Lease after = cluster.acquire();
      assertThat(after.callListener()).isSameAs(CallListener.NONE);
      after.complete(Outcome.SUCCESS);
      during.complete(Outcome.OVERLOADED); // acquired while added: heard

      assertThat(recorder.heard)
          .extracting(Heard::event, Heard::lease)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("started", during),
              org.assertj.core.groups.Tuple.tuple("finished", during));
    }
  }

  @Test
  void throwingListener_neverFailsTheCall_andTheNextListenerStillHears() {
    f.addMembers(9001, 2);
    class Throwing implements ClusterListener, CallListener {
      @Override
      public void callStarted(Lease lease, Candidates candidates) {
        throw new IllegalStateException("boom on start");
      }

      @Override
      public void callFinished(Lease lease, Outcome outcome, long latencyNanos) {
        throw new IllegalStateException("boom on finish");
      }
    }
    Recorder recorder = new Recorder();
    try (Cluster cluster = f.builder().listener(new Throwing()).listener(recorder).build()) {
      for (int i = 0; i < 4; i++) {
        ClusterFixture.call(cluster, Outcome.SUCCESS);
      }
      assertThat(recorder.heard).hasSize(8);
      assertThat(cluster.snapshot().endpoints())
          .allMatch(e -> e.inFlight() == 0)
          .extracting(EndpointSnapshot::calls)
          .containsOnly(2L);
    }
  }

  @Test
  void spillOverPick_reportsTheCandidatesOfThePickerThatChose() {
    f.registry.add(instance(9001, "a"));
    f.registry.add(instance(9002, "b"));
    f.registry.add(instance(9003, "b"));
    Recorder recorder = new Recorder();
    try (Cluster cluster = f.builder().localZone("a").listener(recorder).build()) {
      ClusterFixture.call(cluster, Outcome.SUCCESS);
      // The local endpoint already tried: the retry spills over to every zone.
      Exclusions retry =
          Exclusions.of(CallContext.builder().build())
              .exclude(ClusterMembershipTest.endpoint(cluster, "127.0.0.1:9001"));
      try (Lease lease = cluster.acquire(retry, Long.MAX_VALUE, false)) {
        lease.complete(Outcome.SUCCESS);
        assertThat(lease.endpoint().instance().zone()).isEqualTo("b");
      }
      assertThat(recorder.heard)
          .filteredOn(h -> h.event().equals("started"))
          .extracting(Heard::detail)
          .containsExactly("127.0.0.1:9001", "127.0.0.1:9001,127.0.0.1:9002,127.0.0.1:9003");
    }
  }
}
