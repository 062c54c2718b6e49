package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Test;

/** Calls made before the registry's first answer wait for it, within bounds. */
class ClusterFirstMembersTest {
  private static final ServiceInstance MEMBER =
      ServiceInstance.builder("echo", "127.0.0.1", 9001).build();

  /** A registry that answers only when the test says so. */
  private static final class LateRegistry implements ServiceRegistry {
    final AtomicReference<@Nullable MembershipListener> listener = new AtomicReference<>();

    @Override
    public Registration register(ServiceInstance instance) {
      throw new UnsupportedOperationException();
    }

    @Override
    public Subscription watch(String service, MembershipListener l) {
      listener.set(l);
      return () -> {};
    }

    void answer(List<ServiceInstance> members) {
      MembershipListener l = listener.get();
      assertThat(l).isNotNull();
      l.onMembers(members);
    }

    @Override
    public void close() {}
  }

  private static Cluster.Builder builder(ServiceRegistry registry) {
    return Cluster.builder("echo").registry(registry).updateDebounce(Duration.ZERO);
  }

  /** Runs acquire on another thread and returns once that thread waits for the registry. */
  private static CompletableFuture<Lease> acquireInBackground(Cluster cluster) {
    AtomicReference<@Nullable Thread> caller = new AtomicReference<>();
    CompletableFuture<Lease> result =
        CompletableFuture.supplyAsync(
            () -> {
              caller.set(Thread.currentThread());
              return cluster.acquire();
            });
    await()
        .atMost(Duration.ofSeconds(5))
        .until(
            () -> {
              Thread t = caller.get();
              return t != null && t.getState() == Thread.State.TIMED_WAITING;
            });
    return result;
  }

  @Test
  void callBeforeTheFirstAnswer_waitsForIt_andGetsAMember() throws Exception {
    LateRegistry registry = new LateRegistry();
    try (Cluster cluster = builder(registry).build()) {
      CompletableFuture<Lease> lease = acquireInBackground(cluster);
      assertThat(lease).isNotDone();

      registry.answer(List.of(MEMBER));

      try (Lease l = lease.get(5, TimeUnit.SECONDS)) {
        assertThat(l.instance()).isEqualTo(MEMBER);
        l.complete(Outcome.SUCCESS);
      }
    }
  }

  @Test
  void registryNeverAnswers_callFailsAfterTheWait_sayingSo() {
    try (Cluster cluster =
        builder(new LateRegistry()).firstMembersWait(Duration.ofMillis(100)).build()) {
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("no members known")
          .hasMessageContaining("the registry has not answered yet; waited up to PT0.1S");
    }
  }

  @Test
  void waitIsBoundedByTheCallsDeadline() {
    try (Cluster cluster =
        builder(new LateRegistry()).firstMembersWait(Duration.ofMinutes(10)).build()) {
      CallContext ctx =
          CallContext.builder().timeout(Duration.ofMillis(50), cluster.ticker()).build();
      NoHealthyEndpointException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(30),
              () ->
                  org.junit.jupiter.api.Assertions.assertThrows(
                      NoHealthyEndpointException.class, () -> cluster.acquire(ctx)));
      assertThat(e).hasMessageContaining("has not answered yet");
    }
  }

  @Test
  void registryErrorFirst_endsTheWait_andTheFailureNamesTheError() {
    LateRegistry registry = new LateRegistry();
    try (Cluster cluster = builder(registry).firstMembersWait(Duration.ofMinutes(10)).build()) {
      CompletableFuture<Lease> lease = acquireInBackground(cluster);

      registry.listener.get().onError(new IllegalStateException("agent unreachable"));

      assertThatThrownBy(() -> lease.get(5, TimeUnit.SECONDS))
          .hasCauseInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("agent unreachable");
    }
  }

  @Test
  void anEmptyFirstAnswer_failsLaterCallsAtOnce() {
    LateRegistry registry = new LateRegistry();
    try (Cluster cluster = builder(registry).firstMembersWait(Duration.ofMinutes(10)).build()) {
      registry.answer(List.of());

      NoHealthyEndpointException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(30),
              () ->
                  org.junit.jupiter.api.Assertions.assertThrows(
                      NoHealthyEndpointException.class, cluster::acquire));
      assertThat(e).hasMessageContaining("no members known").hasMessageNotContaining("answered");
    }
  }

  @Test
  void closingTheCluster_releasesAWaitingCall() {
    Cluster cluster = builder(new LateRegistry()).firstMembersWait(Duration.ofMinutes(10)).build();
    CompletableFuture<Lease> lease = acquireInBackground(cluster);

    cluster.close();

    assertThatThrownBy(() -> lease.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(NoHealthyEndpointException.class);
  }

  @Test
  void whenReady_completesOnTheFirstAnswer() {
    LateRegistry registry = new LateRegistry();
    try (Cluster cluster = builder(registry).build()) {
      CompletableFuture<Void> ready = cluster.whenReady().toCompletableFuture();
      assertThat(cluster.isReady()).isFalse();
      assertThat(ready).isNotDone();

      registry.answer(List.of(MEMBER));

      await().atMost(Duration.ofSeconds(5)).until(ready::isDone);
      assertThat(cluster.isReady()).isTrue();
    }
  }

  @Test
  void afterTheStartUpWait_callsNoLongerWait() {
    FakeClock clock = new FakeClock();
    try (Cluster cluster =
        builder(new LateRegistry())
            .ticker(clock)
            .timer(clock)
            .firstMembersWait(Duration.ofSeconds(30))
            .build()) {
      assertThat(cluster.isReady()).isFalse();

      clock.advance(Duration.ofSeconds(31));

      assertThat(cluster.isReady()).isTrue();
      NoHealthyEndpointException e =
          assertTimeoutPreemptively(
              Duration.ofSeconds(20),
              () ->
                  org.junit.jupiter.api.Assertions.assertThrows(
                      NoHealthyEndpointException.class, cluster::acquire));
      assertThat(e).hasMessageContaining("the registry has not answered yet");
    }
  }

  @Test
  void negativeWait_isRejected() {
    assertThatThrownBy(() -> Cluster.builder("echo").firstMembersWait(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("firstMembersWait");
  }
}
