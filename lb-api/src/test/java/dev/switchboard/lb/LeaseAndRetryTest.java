package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.Call.Attempt;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.OptionalLong;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Leases finished exactly once; retries within policy, budget and deadline; bulkhead; rate limit.
 */
class LeaseAndRetryTest {
  private final ClusterFixture f = new ClusterFixture();

  @Test
  void lease_completeTwice_rejected_closeAfterCompleteIsNoOp() {
    f.addMembers(9001, 1);
    try (Cluster cluster = f.builder().build()) {
      Lease lease = cluster.acquire();
      assertThat(lease.endpoint().inFlight()).isEqualTo(1);
      f.clock.advance(Duration.ofMillis(3));
      lease.complete(Outcome.SUCCESS);
      assertThatThrownBy(() -> lease.complete(Outcome.TIMEOUT))
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("already finished as SUCCESS");
      lease.close();
      assertThat(lease.outcome()).isEqualTo(Outcome.SUCCESS);
      assertThat(lease.endpoint().inFlight()).isZero();
      assertThat(lease.endpoint().calls()).isEqualTo(1);
      assertThat(lease.endpoint().latencyNanos(f.clock.read())).isEqualTo(3_000_000.0);
    }
  }

  @Test
  void lease_closedWithoutOutcome_releasedAsCancelled_learnsNothing() {
    f.addMembers(9001, 1);
    try (Cluster cluster = f.builder().build()) {
      Endpoint e;
      try (Lease lease = cluster.acquire()) {
        e = lease.endpoint();
        assertThat(lease.isCompleted()).isFalse();
        assertThatThrownBy(lease::outcome).isInstanceOf(IllegalStateException.class);
      }
      assertThat(e.inFlight()).isZero();
      assertThat(e.calls()).isZero();
    }
  }

  @Test
  void outcome_classification() {
    assertThat(Outcome.CONNECT_FAILURE.isRetryable(false)).isTrue();
    // One rule for every integration: an overloaded answer does not prove the call was not
    // processed, so only idempotent calls are retried after it (as HTTP 503s always were).
    assertThat(Outcome.OVERLOADED.isRetryable(false)).isFalse();
    assertThat(Outcome.OVERLOADED.isRetryable(true)).isTrue();
    assertThat(Outcome.TIMEOUT.isRetryable(false)).isFalse();
    assertThat(Outcome.TIMEOUT.isRetryable(true)).isTrue();
    assertThat(Outcome.TRANSPORT_FAILURE.isRetryable(true)).isTrue();
    assertThat(Outcome.APPLICATION_ERROR.isRetryable(true)).isFalse();
    assertThat(Outcome.APPLICATION_ERROR.isEndpointFailure()).isFalse();
    assertThat(Outcome.CANCELLED.isEndpointFailure()).isFalse();
    assertThat(Outcome.SUCCESS.isRetryable(true)).isFalse();
  }

  @Test
  void retry_avoidsEndpointsAlreadyTried_untilAllTried() {
    f.addMembers(9001, 3);
    try (Cluster cluster =
        f.builder()
            .retryPolicy(new RetryPolicy(10, Duration.ZERO, Duration.ZERO, 100, 100))
            .build()) {
      Call ctx = cluster.newCall(CallContext.builder().idempotent(true).build());
      Set<String> tried = new HashSet<>();
      for (int attempt = 1; attempt <= 3; attempt++) {
        Lease lease = acquire(cluster, ctx);
        assertThat(tried.add(lease.endpoint().address())).as("new endpoint each attempt").isTrue();
        lease.complete(Outcome.TRANSPORT_FAILURE);
        assertThat(retryDelayNanos(ctx, lease, attempt)).isPresent();
      }
      // Every member tried: a repeat is better than failing the call.
      try (Lease lease = acquire(cluster, ctx)) {
        assertThat(tried).contains(lease.endpoint().address());
      }
    }
  }

  @Test
  void retry_notIdempotent_noRetryAfterSend_butConnectFailureRetries() {
    f.addMembers(9001, 2);
    try (Cluster cluster = f.builder().build()) {
      Call ctx = cluster.newCall(CallContext.builder().build());
      Lease lease = acquire(cluster, ctx);
      lease.complete(Outcome.TRANSPORT_FAILURE);
      assertThat(retryDelayNanos(ctx, lease, 1)).isEmpty();
      Lease second = acquire(cluster, ctx);
      second.complete(Outcome.CONNECT_FAILURE);
      assertThat(retryDelayNanos(ctx, second, 1)).isPresent();
      Lease third = acquire(cluster, ctx);
      third.complete(Outcome.APPLICATION_ERROR);
      assertThat(retryDelayNanos(ctx, third, 1)).isEmpty();
    }
  }

  @Test
  void retry_stopsAtMaxAttempts_andBackoffIsBoundedAndJittered() {
    RetryPolicy policy = new RetryPolicy(3, Duration.ofMillis(10), Duration.ofMillis(25), 100, 100);
    f.addMembers(9001, 5);
    try (Cluster cluster = f.builder().retryPolicy(policy).build()) {
      Call ctx = cluster.newCall(CallContext.builder().build());
      Lease lease = acquire(cluster, ctx);
      lease.complete(Outcome.CONNECT_FAILURE);
      OptionalLong d1 = retryDelayNanos(ctx, lease, 1);
      assertThat(d1.getAsLong()).isBetween(0L, 10_000_000L);
      Lease l2 = acquire(cluster, ctx);
      l2.complete(Outcome.CONNECT_FAILURE);
      assertThat(retryDelayNanos(ctx, l2, 2).getAsLong()).isBetween(0L, 20_000_000L);
      Lease l3 = acquire(cluster, ctx);
      l3.complete(Outcome.CONNECT_FAILURE);
      assertThat(retryDelayNanos(ctx, l3, 3)).isEmpty();
    }
    assertThat(policy.backoffNanos(1, 0.999)).isLessThan(10_000_000L);
    assertThat(policy.backoffNanos(2, 0.999)).isBetween(19_000_000L, 20_000_000L);
    assertThat(policy.backoffNanos(5, 0.999)).as("capped").isBetween(24_000_000L, 25_000_000L);
    assertThat(policy.backoffNanos(40, 0.5)).isEqualTo(12_500_000L);
  }

  @Test
  void retry_neverPastDeadline() {
    f.addMembers(9001, 2);
    RetryPolicy policy =
        new RetryPolicy(5, Duration.ofMillis(100), Duration.ofMillis(100), 100, 100);
    try (Cluster cluster = f.builder().retryPolicy(policy).build()) {
      Call ctx =
          cluster.newCall(CallContext.builder().timeout(Duration.ofMillis(50), f.clock).build());
      Lease lease = acquire(cluster, ctx);
      f.clock.advance(Duration.ofMillis(49));
      lease.complete(Outcome.CONNECT_FAILURE);
      // Backoff is at most 100 ms with jitter; with 1 ms left almost any backoff passes the
      // deadline.
      int allowed = 0;
      for (int i = 0; i < 50; i++) {
        OptionalLong d = retryDelayNanos(ctx, lease, 1);
        if (d.isPresent()) {
          allowed++;
          assertThat(d.getAsLong()).isLessThan(1_000_000L);
        }
      }
      assertThat(allowed).isLessThan(50);
      f.clock.advance(Duration.ofMillis(1));
      assertThatThrownBy(() -> acquire(cluster, ctx))
          .isInstanceOf(DeadlineExceededException.class)
          .hasMessageContaining("'echo'");
    }
  }

  @Test
  void retryBudget_limitsRetriesToShareOfCallsPlusFloor() {
    f.addMembers(9001, 2);
    RetryPolicy policy = new RetryPolicy(2, Duration.ZERO, Duration.ZERO, 20, 1);
    try (Cluster cluster = f.budgetOnly(policy).build()) {
      int retries = ClusterFixture.retriedAfterTimeout(cluster, 1000);
      // 20% of 1000 calls plus 1 per second over a 10 s window.
      assertThat(retries).isEqualTo(210);
      // Ten seconds later the window has moved on: calls refill it.
      f.clock.advance(Duration.ofSeconds(11));
      assertThat(ClusterFixture.retriedAfterTimeout(cluster, 1)).isEqualTo(1);
    }
  }

  @Test
  void retryBudget_spent_connectFailuresStillRetried_nothingWasSent() {
    f.addMembers(9001, 2);
    RetryPolicy policy = new RetryPolicy(2, Duration.ZERO, Duration.ZERO, 0, 0);
    try (Cluster cluster = f.builder().retryPolicy(policy).build()) {
      Call ctx = cluster.newCall(CallContext.builder().idempotent(true).build());
      Lease timedOut = acquire(cluster, ctx);
      timedOut.complete(Outcome.TIMEOUT);
      assertThat(retryDelayNanos(ctx, timedOut, 1)).as("budget of zero").isEmpty();
      Lease refused = acquire(cluster, ctx);
      refused.complete(Outcome.CONNECT_FAILURE);
      assertThat(retryDelayNanos(ctx, refused, 1)).isPresent();
    }
  }

  @Test
  void bulkhead_saturatedEndpointSkipped_allSaturatedFailsFast() {
    f.addMembers(9001, 2);
    try (Cluster cluster = f.builder().maxInFlightPerEndpoint(2).build()) {
      Lease[] leases = new Lease[4];
      for (int i = 0; i < 4; i++) {
        leases[i] = cluster.acquire();
      }
      for (EndpointSnapshot s : cluster.snapshot().endpoints()) {
        assertThat(s.inFlight()).isEqualTo(2);
        assertThat(s.eligibility()).isEqualTo(Eligibility.SATURATED);
      }
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("saturated (max 2 in flight)")
          .hasMessageContaining("127.0.0.1:9001 saturated");
      leases[0].complete(Outcome.SUCCESS);
      try (Lease again = cluster.acquire()) {
        assertThat(again.endpoint()).isSameAs(leases[0].endpoint());
      }
    }
  }

  @Test
  void rateLimit_overLimitFailsFast() {
    f.addMembers(9001, 1);
    RateLimiterConfig limit =
        RateLimiterConfig.custom()
            .limitForPeriod(5)
            .limitRefreshPeriod(Duration.ofSeconds(1))
            .timeoutDuration(Duration.ZERO)
            .build();
    try (Cluster cluster = f.builder().rateLimit(limit).build()) {
      for (int i = 0; i < 5; i++) {
        ClusterFixture.call(cluster, Outcome.SUCCESS);
      }
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(RateLimitedException.class)
          .hasMessageContaining("'echo'")
          .hasMessageContaining("5 per PT1S");
      f.clock.advance(Duration.ofSeconds(1));
      ClusterFixture.call(cluster, Outcome.SUCCESS);
    }
  }

  @Test
  void run_retriesConnectFailuresElsewhere_returnsFirstSuccess() throws java.io.IOException {
    f.addMembers(9001, 3);
    try (Cluster cluster =
        f.builder()
            .retryPolicy(new RetryPolicy(3, Duration.ZERO, Duration.ZERO, 100, 100))
            .build()) {
      List<String> tried = new java.util.ArrayList<>();
      String result =
          cluster
              .newCall(CallContext.builder().build())
              .run(
                  classifying(
                      lease -> {
                        tried.add(lease.endpoint().address());
                        if (tried.size() < 3) {
                          throw new java.net.ConnectException(
                              "refused by " + lease.endpoint().address());
                        }
                        return "ok from " + lease.endpoint().address();
                      },
                      Outcome.CONNECT_FAILURE));
      assertThat(tried).doesNotHaveDuplicates().hasSize(3);
      assertThat(result).isEqualTo("ok from " + tried.get(2));
      for (EndpointSnapshot s : cluster.snapshot().endpoints()) {
        assertThat(s.inFlight()).isZero();
      }
    }
  }

  @Test
  void run_notRetryable_throwsFirstFailure_leaseFinishedWithClassifiedOutcome() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().build()) {
      List<Lease> leases = new java.util.ArrayList<>();
      assertThatThrownBy(
              () ->
                  cluster
                      .newCall(CallContext.builder().build())
                      .run(
                          classifying(
                              lease -> {
                                leases.add(lease);
                                throw new java.io.IOException("reset after send");
                              },
                              Outcome.TRANSPORT_FAILURE)))
          .isInstanceOf(java.io.IOException.class)
          .hasMessage("reset after send");
      assertThat(leases).hasSize(1);
      assertThat(leases.get(0).outcome()).isEqualTo(Outcome.TRANSPORT_FAILURE);
    }
  }

  @Test
  void run_attemptsExhausted_throwsLastFailure() {
    f.addMembers(9001, 2);
    try (Cluster cluster =
        f.builder()
            .retryPolicy(new RetryPolicy(2, Duration.ZERO, Duration.ZERO, 100, 100))
            .build()) {
      int[] n = {0};
      assertThatThrownBy(
              () ->
                  cluster
                      .newCall(CallContext.builder().idempotent(true).build())
                      .run(
                          classifying(
                              lease -> {
                                throw new IllegalStateException("timeout #" + ++n[0]);
                              },
                              Outcome.TIMEOUT)))
          .hasMessage("timeout #2");
    }
  }

  @Test
  void builder_rejectsBadValuesNamingThem() {
    Cluster.Builder b = Cluster.builder("echo");
    assertThatThrownBy(() -> b.panicThreshold(101))
        .hasMessageContaining("panicThreshold")
        .hasMessageContaining("101");
    assertThatThrownBy(() -> b.maxInFlightPerEndpoint(0))
        .hasMessageContaining("maxInFlightPerEndpoint");
    assertThatThrownBy(() -> b.slowStart(Duration.ofSeconds(-1))).hasMessageContaining("slowStart");
    assertThatThrownBy(() -> b.localZone("a", 150)).hasMessageContaining("150");
    assertThatThrownBy(() -> b.massRemovalGuard(50, Duration.ofSeconds(-1)))
        .hasMessageContaining("hold");
    assertThatThrownBy(b::build)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("registry");
    assertThatThrownBy(() -> Cluster.builder(" ")).hasMessageContaining("service");
    assertThatThrownBy(() -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO, 20, 10))
        .hasMessageContaining("maxAttempts");
    assertThatThrownBy(
            () -> new OutlierDetection(1, Duration.ofSeconds(10), Duration.ofSeconds(1), 10))
        .hasMessageContaining("maxEjectionTime");
  }

  /** Acquires for the next attempt of {@code call}, avoiding what it tried. */
  static Lease acquire(Cluster cluster, Call call) {
    return cluster.acquire(call, call.context().deadlineNanos(), false);
  }

  /** The engine's retry decision after {@code failed}; a retry excludes its endpoint. */
  static OptionalLong retryDelayNanos(Call call, Lease failed, int attemptsMade) {
    long delay = call.retryDelay(failed.outcome(), attemptsMade);
    if (delay < 0) {
      return OptionalLong.empty();
    }
    call.exclude(failed.endpoint());
    return OptionalLong.of(delay);
  }

  /** {@code attempt}, classifying every exception as {@code outcome}. */
  static <T, X extends Exception> Attempt<T, X> classifying(
      Attempt<T, X> attempt, Outcome outcome) {
    return new Attempt<>() {
      @Override
      public T run(Lease lease) throws X {
        return attempt.run(lease);
      }

      @Override
      public Outcome classify(Throwable error) {
        return outcome;
      }
    };
  }
}
