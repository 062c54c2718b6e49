package dev.switchboard.lb.zookeeper;

import static dev.switchboard.lb.zookeeper.TestZooKeeper.client;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.instance;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.RegistryException;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.test.KillSession;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** Session expiry, the way registrations most often get lost, injected on a real server. */
class SessionExpiryTest {
  private static final String A = "127.0.0.1:9001";
  private static final String B = "127.0.0.1:9002";

  private static TestingServer server;
  private static CuratorFramework admin;

  @BeforeAll
  static void startServer() throws Exception {
    server = TestZooKeeper.startServer();
    admin = client(server.getConnectString());
  }

  @AfterAll
  static void stopServer() throws Exception {
    admin.close();
    server.close();
  }

  /** Reconnection times of a client, as Curator reports them. */
  private static BlockingQueue<Long> reconnections(CuratorFramework client) {
    BlockingQueue<Long> times = new LinkedBlockingQueue<>();
    client
        .getConnectionStateListenable()
        .addListener(
            (c, state) -> {
              if (state == ConnectionState.RECONNECTED) {
                times.add(System.nanoTime());
              }
            });
    return times;
  }

  @Test
  void expiredOnServer_nodeGoneThenBackWithinASecond_watchersNeverEmpty() throws Exception {
    try (ZooKeeperRegistry expiring = registry(server.getConnectString()).build();
        ZooKeeperRegistry steady = registry(server.getConnectString()).build()) {
      expiring.register(instance("expiry", 9001));
      steady.register(instance("expiry", 9002));
      MembershipRecorder remote = new MembershipRecorder();
      MembershipRecorder local = new MembershipRecorder(); // a watch on the expiring session
      steady.watch("expiry", remote);
      expiring.watch("expiry", local);
      remote.awaitIds(A, B);
      local.awaitIds(A, B);
      BlockingQueue<Long> reconnected = reconnections(expiring.client());
      long oldSession = expiring.client().getZookeeperClient().getZooKeeper().getSessionId();
      int from = remote.size();

      TestZooKeeper.expireSessionOnServer(expiring.client(), server.getConnectString());

      MembershipRecorder.Snapshot gone = remote.awaitFirst(from, s -> !s.ids().contains(A));
      Long reconnectedAt = reconnected.poll(10, TimeUnit.SECONDS);
      assertThat(reconnectedAt).as("reconnected").isNotNull();
      MembershipRecorder.Snapshot back =
          remote.awaitFirst(remote.snapshots().indexOf(gone), s -> s.ids().contains(A));
      long reRegistrationMillis = TimeUnit.NANOSECONDS.toMillis(back.nanos() - reconnectedAt);
      System.out.printf(
          "[expiry] server-side session expiry: node gone, re-registered and seen by a watcher"
              + " %d ms after the client reconnected%n",
          reRegistrationMillis);
      assertThat(reRegistrationMillis).isLessThan(1_000);

      Stat stat = admin.checkExists().forPath("/services/expiry/" + A);
      assertThat(stat.getEphemeralOwner())
          .isEqualTo(expiring.client().getZookeeperClient().getZooKeeper().getSessionId())
          .isNotEqualTo(oldSession);
      local.awaitIds(A, B);
      assertThat(remote.snapshots()).noneMatch(s -> s.members().isEmpty());
      assertThat(local.snapshots()).noneMatch(s -> s.members().isEmpty());
      assertThat(local.errors()).hasAtLeastOneElementOfType(RegistryException.class);
      assertThat(local.overlapped()).isFalse();
    }
  }

  /**
   * Curator's KillSession expires the session in the client only; the server may keep the session
   * (and the node) until its timeout, or may see it closed when Curator closes the old handle (a
   * race inside ZooKeeper's client). Either way the node must belong to the new session at once.
   * That watchers never lose a node held by a dead-but-unexpired session is asserted
   * deterministically in {@link ServerRestartTest}, where the restarted server restores the old
   * sessions.
   */
  @Test
  void expiredOnClient_nodeOwnedByNewSessionWithinASecond() throws Exception {
    try (ZooKeeperRegistry expiring = registry(server.getConnectString()).build();
        ZooKeeperRegistry watcher = registry(server.getConnectString()).build()) {
      expiring.register(instance("zombie", 9001));
      MembershipRecorder recorder = new MembershipRecorder();
      watcher.watch("zombie", recorder);
      recorder.awaitIds(A);
      BlockingQueue<Long> reconnected = reconnections(expiring.client());

      for (int round = 1; round <= 2; round++) {
        long oldSession = expiring.client().getZookeeperClient().getZooKeeper().getSessionId();

        KillSession.kill(expiring.client().getZookeeperClient().getZooKeeper());

        Long reconnectedAt = reconnected.poll(10, TimeUnit.SECONDS);
        assertThat(reconnectedAt).as("reconnected").isNotNull();
        long[] replacedAt = new long[1];
        await("node owned by the new session")
            .atMost(Duration.ofSeconds(1))
            .pollInterval(Duration.ofMillis(2))
            .until(
                () -> {
                  Stat stat = admin.checkExists().forPath("/services/zombie/" + A);
                  replacedAt[0] = System.nanoTime();
                  return stat != null
                      && stat.getEphemeralOwner() != oldSession
                      && stat.getEphemeralOwner()
                          == expiring.client().getZookeeperClient().getZooKeeper().getSessionId();
                });
        System.out.printf(
            "[expiry] client-side expiry, round %d: stale node replaced by the new session %d ms"
                + " after reconnecting%n",
            round, TimeUnit.NANOSECONDS.toMillis(replacedAt[0] - reconnectedAt));
      }
      recorder.awaitIds(A);
    }
  }
}
