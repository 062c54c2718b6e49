package dev.switchboard.lb.zookeeper;

import static dev.switchboard.lb.zookeeper.TestZooKeeper.client;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.instance;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.LineServer;
import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.OutlierDetection;
import dev.switchboard.lb.ServiceInstance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** A {@link Cluster} fed by the ZooKeeper registry, under registry faults and endpoint faults. */
class ClusterOnZooKeeperTest {
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

  @Test
  void sessionExpiryOfTheOnlyMember_clusterNeverEmpty_noFailedAcquire() throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(3);
    try (ZooKeeperRegistry registrant = registry(server.getConnectString()).build();
        ZooKeeperRegistry watching = registry(server.getConnectString()).build();
        Cluster cluster = Cluster.builder("lonely").registry(watching).build()) {
      registrant.register(instance("lonely", 9001));
      MembershipRecorder recorder = new MembershipRecorder();
      watching.watch("lonely", recorder);
      recorder.awaitIds("127.0.0.1:9001");
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> cluster.snapshot().endpoints().size() == 1);

      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong acquired = new AtomicLong();
      AtomicInteger failed = new AtomicInteger();
      AtomicInteger emptySnapshots = new AtomicInteger();
      List<Future<?>> callers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        callers.add(
            threads.submit(
                () -> {
                  while (!stop.get()) {
                    try (Lease lease = cluster.acquire()) {
                      lease.complete(Outcome.SUCCESS);
                      acquired.incrementAndGet();
                    } catch (RuntimeException e) {
                      failed.incrementAndGet();
                    }
                    if (cluster.snapshot().endpoints().isEmpty()) {
                      emptySnapshots.incrementAndGet();
                    }
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200)); // pacing
                  }
                }));
      }
      int from = recorder.size();

      TestZooKeeper.expireSessionOnServer(registrant.client(), server.getConnectString());

      // The registry reports the truth (the node is gone, then back); the cluster keeps the
      // last known member in between.
      MembershipRecorder.Snapshot gone = recorder.awaitFirst(from, s -> s.members().isEmpty());
      recorder.awaitFirst(
          recorder.snapshots().indexOf(gone), s -> s.ids().contains("127.0.0.1:9001"));
      await("cluster trusts the registry again")
          .atMost(Duration.ofSeconds(10))
          .until(() -> !cluster.snapshot().registryDegraded());
      stop.set(true);
      for (Future<?> caller : callers) {
        caller.get(10, TimeUnit.SECONDS);
      }

      assertThat(acquired.get()).isPositive();
      assertThat(failed.get()).as("failed acquires").isZero();
      assertThat(emptySnapshots.get()).as("empty cluster snapshots").isZero();
    } finally {
      threads.shutdownNow();
    }
  }

  @Test
  void memberStuckButStillRegistered_isEjectedByTheCluster() throws Exception {
    try (LineServer a = new LineServer();
        LineServer stuck = new LineServer();
        LineServer c = new LineServer();
        ZooKeeperRegistry registrant = registry(server.getConnectString()).build();
        ZooKeeperRegistry watching = registry(server.getConnectString()).build();
        Cluster cluster =
            Cluster.builder("stuck")
                .registry(watching)
                .policy(BalancingPolicy.roundRobin())
                .outlierDetection(
                    new OutlierDetection(3, Duration.ofSeconds(30), Duration.ofSeconds(30), 50))
                .build()) {
      for (LineServer s : List.of(a, stuck, c)) {
        registrant.register(ServiceInstance.builder("stuck", "127.0.0.1", s.port()).build());
      }
      String stuckAddress = "127.0.0.1:" + stuck.port();
      await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> cluster.snapshot().endpoints().size() == 3);
      for (int i = 0; i < 9; i++) {
        assertThat(call(cluster)).isEqualTo(Outcome.SUCCESS);
      }

      stuck.hang(); // keeps its ZooKeeper session and its node, answers nothing

      List<String> picked = new ArrayList<>();
      for (int i = 0; i < 40; i++) {
        try (Lease lease = cluster.acquire()) {
          picked.add(lease.instance().address());
          lease.complete(LineServer.call(lease.instance(), 200));
        }
      }

      ClusterSnapshot snapshot = cluster.snapshot();
      assertThat(snapshot.endpoint(stuckAddress).orElseThrow().eligibility())
          .isEqualTo(Eligibility.EJECTED);
      assertThat(picked.subList(picked.size() - 20, picked.size())).doesNotContain(stuckAddress);
      assertThat(admin.checkExists().forPath("/services/stuck/" + stuckAddress))
          .as("still registered in ZooKeeper")
          .isNotNull();
      assertThat(snapshot.endpoint(stuckAddress).orElseThrow().instance().draining()).isFalse();
    }
  }

  private static Outcome call(Cluster cluster) {
    try (Lease lease = cluster.acquire()) {
      Outcome outcome = LineServer.call(lease.instance(), 200);
      lease.complete(outcome);
      return outcome;
    }
  }
}
