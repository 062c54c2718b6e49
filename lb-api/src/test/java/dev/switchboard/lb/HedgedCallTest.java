package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.Call.Attempt;
import dev.switchboard.lb.Call.Hedging;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Hedged calls: retries when the primary fails before its hedge, and the adaptive delay. */
class HedgedCallTest {
  private static final long MS = 1_000_000L;
  private final ClusterFixture f = new ClusterFixture();

  @Test
  void run_hedgedPrimaryFailsBeforeItsHedge_retriedElsewhere() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().build()) {
      List<String> tried = new ArrayList<>();
      Attempt<String, RuntimeException> attempt =
          lease -> {
            tried.add(lease.endpoint().address());
            Outcome o = tried.size() == 1 ? Outcome.CONNECT_FAILURE : Outcome.SUCCESS;
            lease.complete(o);
            return o.name();
          };
      String answer =
          cluster
              .newCall(CallContext.builder().idempotent(true).build())
              .hedge(Hedging.of(Duration.ofHours(1), 10))
              .run(attempt);
      assertThat(answer).isEqualTo("SUCCESS");
      assertThat(tried).hasSize(2).doesNotHaveDuplicates();
    }
  }

  @Test
  void run_primaryAndHedgeBothHang_eachBoundedByItsAttemptDeadline_callRetriedElsewhere() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().ticker(Ticker.system()).build()) { // real waits
      List<String> tried = java.util.Collections.synchronizedList(new ArrayList<>());
      Attempt<String, RuntimeException> attempt =
          lease -> {
            tried.add(lease.endpoint().address());
            if (tried.size() <= 2) { // two hosts of a lost zone: no answer before the deadline
              while (cluster.ticker().read() - lease.attemptDeadlineNanos() < 0
                  && !lease.isCancelled()) {
                java.util.concurrent.locks.LockSupport.parkNanos(MS);
              }
              lease.complete(Outcome.TIMEOUT);
              throw new IllegalStateException("read timed out");
            }
            return "answered";
          };
      String answer =
          cluster
              .newCall(
                  CallContext.builder()
                      .idempotent(true)
                      .timeout(Duration.ofSeconds(2), cluster.ticker())
                      .build())
              .hedge(Hedging.of(Duration.ofMillis(10), 10))
              .run(attempt);
      // The old engine gave the hedge the call's whole deadline: it hung until then, after the
      // primary's attempt deadline, and the call failed with no time left to retry.
      assertThat(answer).isEqualTo("answered");
      assertThat(tried).hasSize(3).doesNotHaveDuplicates();
    }
  }

  @Test
  void abandonedAttempt_ownConnectFailureOrTimeoutRecorded_brokenConnectionIsCancelled() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().build()) {
      for (Outcome own : List.of(Outcome.CONNECT_FAILURE, Outcome.TIMEOUT)) {
        Lease lease = cluster.acquire();
        lease.cancel(); // a hedge answered first
        assertThat(Attempts.finishThrown(lease, new IllegalStateException(), e -> own, false))
            .isEqualTo(own);
        assertThat(lease.outcome()).isEqualTo(own);
      }
      // Abandoning closes the connection: the broken connection is its doing, not the endpoint's.
      Lease lease = cluster.acquire();
      lease.cancel();
      assertThat(
              Attempts.finishThrown(
                  lease, new IllegalStateException(), e -> Outcome.TRANSPORT_FAILURE, false))
          .isEqualTo(Outcome.CANCELLED);
      assertThat(lease.outcome()).isEqualTo(Outcome.CANCELLED);
    }
  }

  @Test
  void adaptive_noDelayUntilEnoughCalls() {
    LatencyWindow w = new LatencyWindow(0.99);
    for (int i = 0; i < 150; i++) {
      w.record(5 * MS, i * 200 * MS);
    }
    assertThat(w.delayNanos()).isEqualTo(LatencyWindow.NONE);
    assertThat(Hedging.adaptive(1).delayNanos()).isEqualTo(LatencyWindow.NONE);
  }

  @Test
  void adaptive_delayIsThePercentileOfRecentCalls_followsTheirChange() {
    LatencyWindow w = new LatencyWindow(0.99);
    for (int i = 1; i <= 1000; i++) {
      w.record(i * MS, 0);
    }
    w.record(1000 * MS, 200 * MS); // recomputed at most every 100 ms
    assertThat(w.delayNanos()).isBetween(990 * MS, 1250 * MS); // buckets are at most 25% wide

    for (long now = 11_000 * MS; now <= 22_000 * MS; now += 11_000 * MS) {
      for (int i = 0; i < 1000; i++) {
        w.record(2 * MS, now);
      }
      w.record(2 * MS, now + 200 * MS);
    }
    // Two windows later the slow calls are forgotten.
    assertThat(w.delayNanos()).isBetween(2 * MS, 3 * MS);
  }

  @Test
  void adaptive_delayNeverBelowOneMillisecond() {
    LatencyWindow w = new LatencyWindow(0.99);
    for (int i = 0; i < 500; i++) {
      w.record(20_000, 0); // 20 µs
    }
    w.record(20_000, 200 * MS);
    assertThat(w.delayNanos()).isEqualTo(MS);
  }

  @Test
  void adaptive_rejectsBadBudget() {
    assertThatThrownBy(() -> Hedging.adaptive(0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxExtraPercent must be between 1 and 100 but was 0");
  }
}
