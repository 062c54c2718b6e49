package dev.switchboard.lb.zookeeper;

import static dev.switchboard.lb.zookeeper.TestZooKeeper.instance;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.registry;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.MembershipRecorder;
import java.util.List;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingCluster;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;

/** A 3-server ensemble losing the server the registry is connected to. */
class EnsembleTest {
  private static final String A = "127.0.0.1:9001";
  private static final String B = "127.0.0.1:9002";

  @Test
  void oneOfThreeServersLost_registrationAndWatchesContinue() throws Exception {
    List<InstanceSpec> specs =
        List.of(TestZooKeeper.spec(), TestZooKeeper.spec(), TestZooKeeper.spec());
    try (TestingCluster cluster = new TestingCluster(specs)) {
      cluster.start();
      String ensemble = cluster.getConnectString();
      try (ZooKeeperRegistry registrant = registry(ensemble).build();
          ZooKeeperRegistry watcher = registry(ensemble).build()) {
        registrant.register(instance("quorum", 9001));
        MembershipRecorder recorder = new MembershipRecorder();
        watcher.watch("quorum", recorder);
        recorder.awaitIds(A);
        ZooKeeper handle = registrant.client().getZookeeperClient().getZooKeeper();
        long session = handle.getSessionId();
        InstanceSpec connectedTo = cluster.findConnectionInstance(handle);

        assertThat(cluster.killServer(connectedTo)).isTrue();

        registrant.register(instance("quorum", 9002)); // after failing over to a survivor
        recorder.awaitIds(A, B);
        assertThat(registrant.client().getZookeeperClient().getZooKeeper().getSessionId())
            .as("session survived the failover")
            .isEqualTo(session);
        assertThat(
                registrant
                    .client()
                    .checkExists()
                    .forPath("/services/quorum/" + A)
                    .getEphemeralOwner())
            .isEqualTo(session);
        assertThat(recorder.snapshots()).allMatch(s -> s.ids().contains(A));
      }
    }
  }
}
