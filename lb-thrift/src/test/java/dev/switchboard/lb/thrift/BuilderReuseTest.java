package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link ThriftCluster#create} leaves the caller's {@link Cluster.Builder} as it was. */
class BuilderReuseTest {
  @Test
  void create_leavesTheCallersBuilderUnchanged_aSecondClusterKeepsItsOwnInFlightLimit() {
    StaticRegistry registry =
        StaticRegistry.of(ServiceInstance.builder("echo", "127.0.0.1", 9).build());
    Cluster.Builder builder =
        Cluster.builder("echo")
            .registry(registry)
            .updateDebounce(Duration.ZERO)
            .maxInFlightPerEndpoint(1000);
    try (ThriftCluster thrift =
            ThriftCluster.create(
                builder,
                ThriftTransportConfig.builder().pool(2, 2).warmUp(0, Duration.ZERO).build());
        Cluster plain = builder.build()) {
      List<Lease> leases = new ArrayList<>();
      try {
        for (int i = 0; i < 10; i++) {
          leases.add(plain.acquire()); // more than the Thrift pool's 2 connections
        }
        assertThat(leases).hasSize(10);
      } finally {
        leases.forEach(Lease::close);
      }
      assertThat(thrift.cluster().snapshot().endpoints()).hasSize(1);
    }
  }
}
