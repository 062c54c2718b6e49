package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.Call.Attempt;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The call engine on a fake clock: one retry rule for every integration, cancellation that never
 * charges an endpoint, attempt deadlines that leave room for a retry, the budget funded by every
 * call, fail-fast when every member refuses connects, and the asynchronous path.
 */
class CallEngineTest {
  private final ClusterFixture f = new ClusterFixture();

  private static CallContext idempotent(boolean idempotent) {
    return CallContext.builder().idempotent(idempotent).build();
  }

  /** An attempt that finishes its lease with each outcome in turn, and records the endpoints. */
  private static Attempt<String, RuntimeException> answering(
      List<String> tried, Outcome... outcomes) {
    return lease -> {
      tried.add(lease.endpoint().address());
      Outcome o = outcomes[Math.min(tried.size(), outcomes.length) - 1];
      lease.complete(o);
      return o.name();
    };
  }

  @Test
  void run_overloadedAnswer_retriedElsewhereOnlyWhenIdempotent() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().build()) {
      List<String> once = new ArrayList<>();
      assertThat(
              cluster
                  .newCall(idempotent(false))
                  .run(answering(once, Outcome.OVERLOADED, Outcome.SUCCESS)))
          .isEqualTo("OVERLOADED");
      assertThat(once).hasSize(1);

      List<String> twice = new ArrayList<>();
      assertThat(
              cluster
                  .newCall(idempotent(true))
                  .run(answering(twice, Outcome.OVERLOADED, Outcome.SUCCESS)))
          .isEqualTo("SUCCESS");
      assertThat(twice).hasSize(2).doesNotHaveDuplicates();
    }
  }

  @Test
  void run_interruptedCaller_isCancelled_neverRetried_chargesNoEndpoint() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().build()) {
      List<Lease> leases = new ArrayList<>();
      Thread.currentThread().interrupt();
      try {
        assertThatThrownBy(
                () ->
                    cluster
                        .newCall(idempotent(true))
                        .run(
                            LeaseAndRetryTest.classifying(
                                lease -> {
                                  leases.add(lease);
                                  throw new InterruptedIOException("interrupted");
                                },
                                Outcome.TRANSPORT_FAILURE)))
            .isInstanceOf(InterruptedIOException.class);
      } finally {
        assertThat(Thread.interrupted()).isTrue();
      }
      assertThat(leases).hasSize(1);
      assertThat(leases.get(0).outcome()).isEqualTo(Outcome.CANCELLED);
      for (EndpointSnapshot s : cluster.snapshot().endpoints()) {
        assertThat(s.failures()).isZero();
        assertThat(s.calls()).isZero();
        assertThat(s.inFlight()).isZero();
      }
    }
  }

  /**
   * Interrupted calls spend nothing from the retry budget: afterwards the budget (here exactly 10
   * retries per 10 s window) still retries 10 timed-out calls. Before the engine, each interrupted
   * call was retried, withdrawing from the budget the healthy calls then lacked.
   */
  @Test
  void run_interruptedCalls_leaveTheRetryBudgetUntouched() {
    f.addMembers(9001, 3);
    try (Cluster cluster =
        f.budgetOnly(new RetryPolicy(3, Duration.ZERO, Duration.ZERO, 0, 1)).build()) {
      Attempt<String, InterruptedIOException> interrupted =
          lease -> {
            throw new InterruptedIOException("interrupted");
          };
      for (int i = 0; i < 20; i++) {
        Thread.currentThread().interrupt();
        try {
          assertThatThrownBy(() -> cluster.newCall(idempotent(true)).run(interrupted))
              .isInstanceOf(InterruptedIOException.class);
        } finally {
          Thread.interrupted();
        }
      }
      assertThat(ClusterFixture.retriedAfterTimeout(cluster, 10))
          .as("timed-out calls retried after 20 interrupted ones")
          .isEqualTo(10);
    }
  }

  @Test
  void run_idempotentAttemptWithAnotherEndpointLeft_getsHalfTheTimeLeft_theLastGetsAll() {
    f.addMembers(9001, 2);
    try (Cluster cluster = f.builder().build()) {
      CallContext ctx =
          CallContext.builder().idempotent(true).timeout(Duration.ofSeconds(2), f.clock).build();
      List<Long> budgets = new ArrayList<>();
      cluster
          .newCall(ctx)
          .run(
              lease -> {
                budgets.add(lease.attemptDeadlineNanos() - f.clock.read());
                if (budgets.size() == 1) {
                  f.clock.advance(Duration.ofSeconds(1)); // the first attempt times out
                  lease.complete(Outcome.TIMEOUT);
                }
                return "ok";
              });
      assertThat(budgets).hasSize(2);
      assertThat(budgets.get(0)).isEqualTo(Duration.ofSeconds(1).toNanos());
      // The retry is the second attempt on the last untried endpoint: all that is left.
      assertThat(budgets.get(1)).isBetween(0L, Duration.ofSeconds(1).toNanos());

      List<Long> single = new ArrayList<>();
      cluster
          .newCall(
              CallContext.builder()
                  .idempotent(false)
                  .timeout(Duration.ofSeconds(2), f.clock)
                  .build())
          .run(
              lease -> {
                single.add(lease.attemptDeadlineNanos() - f.clock.read());
                return "ok";
              });
      assertThat(single).containsExactly(Duration.ofSeconds(2).toNanos());
    }
  }

  /**
   * A total outage: every member refuses its connects until its breaker opens; from then on calls
   * fail at once without a connect, naming each member's reason. Panic mode does not override open
   * breakers (nor send calls to members that would refuse them).
   */
  @Test
  void run_everyMemberRefusing_oncePastTheBreakers_failsFastWithoutAnAttempt_namingEachReason() {
    f.addMembers(9001, 3);
    try (Cluster cluster =
        f.builder()
            .circuitBreaker(
                io.github.resilience4j.circuitbreaker.CircuitBreakerConfig.custom()
                    .slidingWindowSize(4)
                    .minimumNumberOfCalls(4)
                    .failureRateThreshold(50)
                    .waitDurationInOpenState(Duration.ofSeconds(10))
                    .build())
            .build()) {
      AtomicInteger attempts = new AtomicInteger();
      Attempt<String, RuntimeException> refused =
          LeaseAndRetryTest.classifying(
              lease -> {
                attempts.incrementAndGet();
                throw new IllegalStateException("connection refused");
              },
              Outcome.CONNECT_FAILURE);
      int calls = 0;
      while (cluster.snapshot().eligibleCount() > 0 && calls < 100) {
        assertThatThrownBy(() -> cluster.newCall(idempotent(false)).run(refused))
            .hasMessage("connection refused");
        calls++;
      }
      assertThat(calls).as("calls until every breaker opened").isLessThan(100);
      int before = attempts.get();

      for (int i = 0; i < 100; i++) {
        assertThatThrownBy(() -> cluster.newCall(idempotent(false)).run(refused))
            .isInstanceOf(NoHealthyEndpointException.class)
            .hasMessageContaining("127.0.0.1:9001 circuit breaker open")
            .hasMessageContaining("127.0.0.1:9002 circuit breaker open")
            .hasMessageContaining("127.0.0.1:9003 circuit breaker open");
      }
      assertThat(attempts.get()).as("no connect while every breaker is open").isEqualTo(before);
      assertThat(cluster.snapshot().panic()).isFalse();
    }
  }

  @Test
  void run_retryBudget_fundedByEveryCall_evenWhileAnEndpointIsBackedOff() {
    f.addMembers(9001, 3);
    RetryPolicy policy = new RetryPolicy(2, Duration.ZERO, Duration.ZERO, 100, 0);
    try (Cluster cluster = f.budgetOnly(policy).build()) {
      try (Lease busy = cluster.acquire()) {
        busy.backOff(Duration.ofMinutes(1)); // Retry-After
        busy.complete(Outcome.OVERLOADED);
      }
      assertThat(ClusterFixture.retriedAfterTimeout(cluster, 100))
          .as("every timed-out call retried: 100% of calls")
          .isEqualTo(100);
    }
  }

  @Test
  void runAsync_retriesOnTheScheduler_andCancellingAbandonsTheAttemptWithoutChargingIt()
      throws Exception {
    f.addMembers(9001, 2);
    RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(10), 100, 10);
    try (Cluster cluster = f.builder().retryPolicy(policy).build()) {
      List<String> tried = new ArrayList<>();
      CompletableFuture<String> retried =
          cluster
              .newCall(idempotent(true))
              .runAsync(
                  lease -> {
                    tried.add(lease.endpoint().address());
                    if (tried.size() == 1) {
                      lease.complete(Outcome.TIMEOUT);
                      return CompletableFuture.completedFuture("timed out");
                    }
                    return CompletableFuture.completedFuture("answered");
                  });
      f.clock.advance(Duration.ofMillis(10)); // the backoff waits on the cluster's scheduler
      assertThat(retried.get(1, TimeUnit.SECONDS)).isEqualTo("answered");
      assertThat(tried).hasSize(2).doesNotHaveDuplicates();

      long failuresBefore = 0;
      for (EndpointSnapshot e : cluster.snapshot().endpoints()) {
        failuresBefore += e.failures();
      }
      CompletableFuture<String> wire = new CompletableFuture<>();
      List<Lease> leases = new ArrayList<>();
      CompletableFuture<String> call =
          cluster
              .newCall(idempotent(true))
              .runAsync(
                  lease -> {
                    leases.add(lease);
                    lease.onCancel(() -> wire.cancel(true));
                    return wire;
                  });
      call.cancel(true);
      assertThat(wire).isCancelled();
      assertThat(leases).hasSize(1);
      assertThat(leases.get(0).outcome()).isEqualTo(Outcome.CANCELLED);
      long failuresAfter = 0;
      for (EndpointSnapshot e : cluster.snapshot().endpoints()) {
        failuresAfter += e.failures();
      }
      assertThat(failuresAfter).isEqualTo(failuresBefore);
      assertThat(leases.get(0).endpoint().inFlight()).isZero();
    }
  }
}
