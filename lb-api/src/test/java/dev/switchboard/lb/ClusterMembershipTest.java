package dev.switchboard.lb;

import static dev.switchboard.lb.ClusterFixture.SERVICE;
import static dev.switchboard.lb.ClusterFixture.instance;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/** Registry snapshots into endpoints: keep-last-known, the mass-removal guard, debouncing. */
class ClusterMembershipTest {
  private final ClusterFixture f = new ClusterFixture();

  private static Set<String> addresses(Cluster cluster, int calls) {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < calls; i++) {
      seen.add(ClusterFixture.call(cluster, Outcome.SUCCESS));
    }
    return seen;
  }

  @Test
  void members_addedAndRemovedAtRuntime() {
    f.addMembers(9001, 2);
    try (Cluster cluster = f.builder().build()) {
      assertThat(cluster.snapshot().endpoints()).hasSize(2);
      f.registry.add(instance(9003));
      assertThat(cluster.snapshot().endpoints())
          .extracting(EndpointSnapshot::address)
          .containsExactly("127.0.0.1:9001", "127.0.0.1:9002", "127.0.0.1:9003");
      f.registry.remove(SERVICE, "127.0.0.1:9001");
      assertThat(addresses(cluster, 50)).doesNotContain("127.0.0.1:9001");
      assertThat(cluster.snapshot().registryDegraded()).isFalse();
    }
  }

  @Test
  void emptySnapshot_keepsLastKnownAndReportsDegraded() {
    f.addMembers(9001, 3);
    try (Cluster cluster = f.builder().build()) {
      f.registry.set(SERVICE, List.of());
      ClusterSnapshot s = cluster.snapshot();
      assertThat(s.endpoints()).hasSize(3);
      assertThat(s.registryDegraded()).isTrue();
      assertThat(s.registryProblem()).get().asString().contains("no members");
      assertThat(addresses(cluster, 30)).isNotEmpty();

      f.addMembers(9001, 2);
      assertThat(cluster.snapshot().registryDegraded()).isFalse();
    }
  }

  @Test
  void registryError_keepsLastKnown() {
    AtomicReference<MembershipListener> listener = new AtomicReference<>();
    ServiceRegistry registry = capturingRegistry(listener);
    try (Cluster cluster = f.builder().registry(registry).build()) {
      listener.get().onMembers(List.of(instance(1), instance(2)));
      listener.get().onError(new IllegalStateException("session expired"));
      ClusterSnapshot s = cluster.snapshot();
      assertThat(s.endpoints()).hasSize(2);
      assertThat(s.registryProblem()).get().asString().contains("session expired");
      assertThat(addresses(cluster, 10)).isNotEmpty();
    }
  }

  @Test
  void garbageFromRegistry_nullListOrNullMember_keepsLastKnown() {
    AtomicReference<MembershipListener> listener = new AtomicReference<>();
    try (Cluster cluster = f.builder().registry(capturingRegistry(listener)).build()) {
      listener.get().onMembers(List.of(instance(1), instance(2)));
      listener.get().onMembers(null);
      assertThat(cluster.snapshot().endpoints()).hasSize(2);
      assertThat(cluster.snapshot().registryDegraded()).isTrue();

      listener.get().onMembers(Arrays.asList(instance(1), null));
      assertThat(cluster.snapshot().endpoints()).hasSize(2);
    }
  }

  @Test
  void foreignServiceAndDuplicateIds_skipped() {
    AtomicReference<MembershipListener> listener = new AtomicReference<>();
    try (Cluster cluster = f.builder().registry(capturingRegistry(listener)).build()) {
      ServiceInstance other = ServiceInstance.builder("other", "127.0.0.1", 5).build();
      ServiceInstance dup =
          ServiceInstance.builder(SERVICE, "127.0.0.1", 6).id("127.0.0.1:1").build();
      listener.get().onMembers(List.of(instance(1), other, dup, instance(2)));
      assertThat(cluster.snapshot().endpoints())
          .extracting(EndpointSnapshot::address)
          .containsExactly("127.0.0.1:1", "127.0.0.1:2");
    }
  }

  @Test
  void registryThrowingOnWatch_clusterStartsDegradedAndRetries() {
    AtomicReference<MembershipListener> listener = new AtomicReference<>();
    int[] attempts = {0};
    ServiceRegistry flaky =
        new ServiceRegistry() {
          @Override
          public Registration register(ServiceInstance instance) {
            throw new UnsupportedOperationException();
          }

          @Override
          public Subscription watch(String service, MembershipListener l) {
            if (attempts[0]++ == 0) {
              throw new IllegalStateException("registry unreachable");
            }
            listener.set(l);
            l.onMembers(List.of(instance(1)));
            return () -> {};
          }

          @Override
          public void close() {}
        };
    try (Cluster cluster = f.builder().registry(flaky).build()) {
      assertThat(cluster.snapshot().registryProblem())
          .get()
          .asString()
          .contains("registry unreachable");
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("'echo'")
          .hasMessageContaining("no members known")
          .hasMessageContaining("registry unreachable");
      f.clock.advance(Duration.ofSeconds(2));
      assertThat(attempts[0]).isEqualTo(2);
      assertThat(cluster.snapshot().endpoints()).hasSize(1);
      assertThat(cluster.snapshot().registryDegraded()).isFalse();
    }
  }

  @Test
  void registryAge_growsWithTheClock_resetsOnAppliedUpdatesAndConfirmations_notOnRefusedOnes() {
    AtomicReference<MembershipListener> listener = new AtomicReference<>();
    try (Cluster cluster = f.builder().registry(capturingRegistry(listener)).build()) {
      // Before a first update, the age counts from the cluster's creation.
      f.clock.advance(Duration.ofSeconds(3));
      assertThat(cluster.snapshot().registryAge()).isEqualTo(Duration.ofSeconds(3));
      listener.get().onConfirmed(); // nothing delivered yet, so nothing to confirm
      assertThat(cluster.snapshot().registryAge()).isEqualTo(Duration.ofSeconds(3));

      listener.get().onMembers(List.of(instance(1), instance(2)));
      assertThat(cluster.snapshot().registryAge()).isZero();
      f.clock.advance(Duration.ofSeconds(10));
      assertThat(cluster.snapshot().registryAge()).isEqualTo(Duration.ofSeconds(10));

      listener.get().onConfirmed(); // a poll that found no change
      assertThat(cluster.snapshot().registryAge()).isZero();

      // A refused update (keep-last-known) leaves the kept members as old as they were, and so
      // does confirming it or an error.
      f.clock.advance(Duration.ofSeconds(5));
      listener.get().onMembers(List.of());
      listener.get().onConfirmed();
      listener.get().onError(new IllegalStateException("session expired"));
      f.clock.advance(Duration.ofSeconds(5));
      ClusterSnapshot degraded = cluster.snapshot();
      assertThat(degraded.registryDegraded()).isTrue();
      assertThat(degraded.registryAge()).isEqualTo(Duration.ofSeconds(10));

      listener.get().onMembers(List.of(instance(1), instance(2)));
      assertThat(cluster.snapshot().registryDegraded()).isFalse();
      assertThat(cluster.snapshot().registryAge()).isZero();
    }
  }

  @Test
  void massRemoval_healthyMembersHeldUntilConfirmed() {
    f.addMembers(9001, 4);
    try (Cluster cluster = f.builder().build()) {
      // One update drops 3 of 4 (75% > 50%): all three look healthy to us, so all are held.
      f.registry.set(SERVICE, List.of(instance(9001)));
      ClusterSnapshot s = cluster.snapshot();
      assertThat(s.endpoints()).hasSize(4);
      assertThat(s.registryProblem()).get().asString().contains("would remove 3 of 4");

      // A later update that still lacks them confirms the removal.
      f.registry.add(instance(9005));
      assertThat(cluster.snapshot().endpoints())
          .extracting(EndpointSnapshot::address)
          .containsExactly("127.0.0.1:9001", "127.0.0.1:9005");
      assertThat(cluster.snapshot().registryDegraded()).isFalse();
    }
  }

  @Test
  void massRemoval_failingMembersGoAtOnce_restHeldUntilTimeout() {
    f.addMembers(9001, 4);
    try (Cluster cluster =
        f.builder()
            .massRemovalGuard(50, Duration.ofSeconds(30))
            .outlierDetection(OutlierDetection.disabled())
            .build()) {
      Endpoint failing = endpoint(cluster, "127.0.0.1:9002");
      failing.record(Outcome.CONNECT_FAILURE, 1000, f.clock.read());

      f.registry.set(SERVICE, List.of(instance(9001)));
      assertThat(cluster.snapshot().endpoints())
          .extracting(EndpointSnapshot::address)
          .containsExactly("127.0.0.1:9001", "127.0.0.1:9003", "127.0.0.1:9004");

      f.clock.advance(Duration.ofSeconds(29));
      assertThat(cluster.snapshot().endpoints()).hasSize(3);
      f.clock.advance(Duration.ofSeconds(1));
      assertThat(cluster.snapshot().endpoints())
          .extracting(EndpointSnapshot::address)
          .containsExactly("127.0.0.1:9001");
      assertThat(cluster.snapshot().registryDegraded()).isFalse();
    }
  }

  @Test
  void smallRemoval_appliedAtOnce() {
    f.addMembers(9001, 4);
    try (Cluster cluster = f.builder().build()) {
      f.registry.remove(SERVICE, "127.0.0.1:9001");
      f.registry.remove(SERVICE, "127.0.0.1:9002");
      assertThat(cluster.snapshot().endpoints()).hasSize(2);
    }
  }

  @Test
  void notifyStorm_debounced_onePickerRebuild() {
    f.addMembers(9001, 1);
    try (Cluster cluster = f.builder().updateDebounce(Duration.ofMillis(20)).build()) {
      int before = f.pickerBuilds.get();
      for (int i = 0; i < 100; i++) {
        f.registry.add(instance(9100 + i));
      }
      assertThat(f.pickerBuilds.get()).isEqualTo(before);
      f.clock.advance(Duration.ofMillis(20));
      assertThat(f.pickerBuilds.get()).isEqualTo(before + 1);
      assertThat(cluster.snapshot().endpoints()).hasSize(101);
    }
  }

  @Test
  void endpointIdentity_keptAcrossUpdates_countersSurvive() {
    f.addMembers(9001, 2);
    try (Cluster cluster = f.builder().build()) {
      Endpoint before = endpoint(cluster, "127.0.0.1:9001");
      before.record(Outcome.SUCCESS, 1000, f.clock.read());
      f.registry.add(instance(9001).withWeight(50));
      Endpoint after = endpoint(cluster, "127.0.0.1:9001");
      assertThat(after).isSameAs(before);
      assertThat(after.instance().weight()).isEqualTo(50);
      assertThat(after.calls()).isEqualTo(1);
    }
  }

  @Test
  void removedEndpoint_closedOnlyAfterInFlightLeasesFinish() {
    List<Endpoint> removed = new CopyOnWriteArrayList<>();
    f.addMembers(9001, 3);
    try (Cluster cluster =
        f.builder()
            .listener(
                new ClusterListener() {
                  @Override
                  public void endpointRemoved(Endpoint endpoint) {
                    removed.add(endpoint);
                  }
                })
            .build()) {
      List<Lease> leases = new ArrayList<>();
      Lease held = null;
      for (int i = 0; i < 3 && held == null; i++) {
        Lease lease = cluster.acquire();
        if (lease.endpoint().address().equals("127.0.0.1:9001")) {
          held = lease;
        } else {
          leases.add(lease);
        }
      }
      leases.forEach(Lease::close);
      assertThat(held).isNotNull();
      f.registry.remove(SERVICE, "127.0.0.1:9001");
      assertThat(removed).isEmpty();
      assertThat(held.endpoint().isRemoved()).isTrue();
      held.complete(Outcome.SUCCESS);
      assertThat(removed).containsExactly(held.endpoint());
    }
  }

  @Test
  void drainingAndZeroWeight_getNoTraffic_andSnapshotSaysWhy() {
    f.registry.add(instance(9001));
    f.registry.add(instance(9002).withDraining(true));
    f.registry.add(instance(9003).withWeight(0));
    try (Cluster cluster = f.builder().build()) {
      assertThat(addresses(cluster, 50)).containsExactly("127.0.0.1:9001");
      ClusterSnapshot s = cluster.snapshot();
      assertThat(s.endpoint("127.0.0.1:9002").orElseThrow().eligibility())
          .isEqualTo(Eligibility.DRAINING);
      assertThat(s.endpoint("127.0.0.1:9003").orElseThrow().eligibility())
          .isEqualTo(Eligibility.ZERO_WEIGHT);
      assertThat(s.eligibleCount()).isEqualTo(1);
    }
  }

  @Test
  void allDrainingOrZeroWeight_noHealthyEndpoint_namesEachReason() {
    f.registry.add(instance(9002).withDraining(true));
    f.registry.add(instance(9003).withWeight(0));
    try (Cluster cluster = f.builder().build()) {
      assertThatThrownBy(cluster::acquire)
          .isInstanceOf(NoHealthyEndpointException.class)
          .hasMessageContaining("service 'echo'")
          .hasMessageContaining("127.0.0.1:9002 draining")
          .hasMessageContaining("127.0.0.1:9003 weight 0");
    }
  }

  @Test
  void closedCluster_rejectsAcquire_andReleasesEndpoints() {
    List<Endpoint> removed = new CopyOnWriteArrayList<>();
    f.addMembers(9001, 2);
    Cluster cluster =
        f.builder()
            .listener(
                new ClusterListener() {
                  @Override
                  public void endpointRemoved(Endpoint endpoint) {
                    removed.add(endpoint);
                  }
                })
            .build();
    cluster.close();
    cluster.close();
    assertThat(removed).hasSize(2);
    assertThatThrownBy(cluster::acquire)
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }

  static Endpoint endpoint(Cluster cluster, String address) {
    ClusterPicker p = clusterPicker(cluster);
    for (Endpoint e : p.members) {
      if (e.address().equals(address)) {
        return e;
      }
    }
    throw new AssertionError("no member " + address);
  }

  static ClusterPicker clusterPicker(Cluster cluster) {
    try {
      var field = Cluster.class.getDeclaredField("state");
      field.setAccessible(true);
      return ((ClusterState) field.get(cluster)).published();
    } catch (ReflectiveOperationException e) {
      throw new AssertionError(e);
    }
  }

  private static ServiceRegistry capturingRegistry(AtomicReference<MembershipListener> listener) {
    return new ServiceRegistry() {
      @Override
      public Registration register(ServiceInstance instance) {
        throw new UnsupportedOperationException();
      }

      @Override
      public Subscription watch(String service, MembershipListener l) {
        listener.set(l);
        return () -> {};
      }

      @Override
      public void close() {}
    };
  }
}
