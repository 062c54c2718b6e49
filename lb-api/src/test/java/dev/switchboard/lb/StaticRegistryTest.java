package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

class StaticRegistryTest {
  private static ServiceInstance instance(int port) {
    return ServiceInstance.builder("echo", "127.0.0.1", port).build();
  }

  private static final class Recorder implements MembershipListener {
    final List<List<ServiceInstance>> snapshots = new CopyOnWriteArrayList<>();

    @Override
    public void onMembers(List<ServiceInstance> members) {
      snapshots.add(members);
    }

    List<ServiceInstance> last() {
      return snapshots.get(snapshots.size() - 1);
    }
  }

  @Test
  void watch_deliversCurrentMembersAtOnce() {
    StaticRegistry registry = StaticRegistry.of(instance(1), instance(2));
    Recorder r = new Recorder();
    registry.watch("echo", r);
    assertThat(r.snapshots).hasSize(1);
    assertThat(r.last()).containsExactly(instance(1), instance(2));
  }

  @Test
  void addRemoveDrain_pushFullSnapshots() {
    StaticRegistry registry = new StaticRegistry();
    Recorder r = new Recorder();
    registry.watch("echo", r);
    registry.add(instance(1));
    registry.add(instance(2));
    assertThat(r.last()).containsExactly(instance(1), instance(2));
    registry.drain("echo", "127.0.0.1:1");
    assertThat(r.last()).containsExactly(instance(1).withDraining(true), instance(2));
    assertThat(registry.remove("echo", "127.0.0.1:1")).isTrue();
    assertThat(registry.remove("echo", "127.0.0.1:1")).isFalse();
    assertThat(r.last()).containsExactly(instance(2));
  }

  @Test
  void otherServices_notDelivered() {
    StaticRegistry registry = new StaticRegistry();
    Recorder r = new Recorder();
    registry.watch("echo", r);
    registry.add(ServiceInstance.builder("other", "127.0.0.1", 5).build());
    assertThat(r.snapshots).hasSize(1); // the initial, empty one
    assertThat(r.last()).isEmpty();
  }

  @Test
  void registration_drainThenClose_deregistersIdempotently() {
    StaticRegistry registry = new StaticRegistry();
    Recorder r = new Recorder();
    registry.watch("echo", r);
    Registration reg = registry.register(instance(7));
    reg.drain();
    assertThat(reg.instance().draining()).isTrue();
    assertThat(r.last()).containsExactly(instance(7).withDraining(true));
    reg.close();
    reg.close();
    assertThat(r.last()).isEmpty();
    assertThat(registry.members("echo")).isEmpty();
  }

  @Test
  void subscriptionClosed_stopsDelivery() {
    StaticRegistry registry = new StaticRegistry();
    Recorder r = new Recorder();
    Subscription s = registry.watch("echo", r);
    s.close();
    registry.add(instance(1));
    assertThat(r.snapshots).hasSize(1);
  }

  @Test
  void drainUnknown_rejectedNamingMember() {
    StaticRegistry registry = new StaticRegistry();
    assertThatThrownBy(() -> registry.drain("echo", "nope"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("nope");
  }

  @Test
  void set_replacesAllAndRejectsForeignService() {
    StaticRegistry registry = StaticRegistry.of(instance(1));
    Recorder r = new Recorder();
    registry.watch("echo", r);
    registry.set("echo", List.of(instance(3), instance(4)));
    assertThat(r.last()).containsExactly(instance(3), instance(4));
    assertThatThrownBy(
            () ->
                registry.set("echo", List.of(ServiceInstance.builder("x", "127.0.0.1", 1).build())))
        .hasMessageContaining("belongs to 'x'");
  }

  @Test
  void listenerThrows_registryCarriesOn() {
    StaticRegistry registry = new StaticRegistry();
    Recorder r = new Recorder();
    registry.watch(
        "echo",
        members -> {
          throw new IllegalStateException("boom");
        });
    registry.watch("echo", r);
    registry.add(instance(1));
    assertThat(r.last()).containsExactly(instance(1));
  }

  @Test
  void closed_rejectsChanges() {
    StaticRegistry registry = new StaticRegistry();
    registry.close();
    assertThatThrownBy(() -> registry.add(instance(1)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("closed");
  }
}
