package dev.switchboard.lb.zookeeper;

import static dev.switchboard.lb.zookeeper.TestZooKeeper.client;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.instance;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;

/**
 * The only ZooKeeper server stops for 10 s under a watching {@link Cluster} whose callers keep
 * acquiring and releasing leases; then it comes back from its data directory (with the old
 * sessions, which it expires only after their timeout).
 */
class ServerRestartTest {
  private static final String A = "127.0.0.1:9001";
  private static final String B = "127.0.0.1:9002";
  private static final String LEAVING = "127.0.0.1:9003";
  private static final String JOINING = "127.0.0.1:9004";
  private static final Duration OUTAGE = Duration.ofSeconds(10);

  private static Set<String> addresses(Cluster cluster) {
    return cluster.snapshot().endpoints().stream()
        .map(EndpointSnapshot::address)
        .collect(Collectors.toSet());
  }

  @Test
  void serverDownTenSeconds_membersKept_thenReconciled() throws Exception {
    ExecutorService threads = Executors.newCachedThreadPool();
    List<AutoCloseable> closeables = new ArrayList<>();
    TestingServer server = TestZooKeeper.startServer();
    try {
      String ensemble = server.getConnectString();
      ZooKeeperRegistry a = registry(ensemble).build();
      ZooKeeperRegistry b = registry(ensemble).build();
      ZooKeeperRegistry leaving = registry(ensemble).build();
      ZooKeeperRegistry watcher = registry(ensemble).build();
      closeables.addAll(List.of(a, b, watcher));
      a.register(instance("outage", 9001));
      b.register(instance("outage", 9002));
      leaving.register(instance("outage", 9003));
      MembershipRecorder recorder = new MembershipRecorder();
      watcher.watch("outage", recorder);
      Cluster cluster = Cluster.builder("outage").registry(watcher).build();
      closeables.add(0, cluster);
      recorder.awaitIds(A, B, LEAVING);
      await().atMost(Duration.ofSeconds(10)).until(() -> addresses(cluster).size() == 3);

      // Callers acquire and release leases on several threads the whole time.
      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong picks = new AtomicLong();
      AtomicInteger failedPicks = new AtomicInteger();
      List<Future<?>> readers = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        readers.add(
            threads.submit(
                () -> {
                  while (!stop.get()) {
                    try (Lease lease = cluster.acquire()) {
                      lease.complete(Outcome.SUCCESS);
                      picks.incrementAndGet();
                    } catch (RuntimeException e) {
                      failedPicks.incrementAndGet();
                    }
                    LockSupport.parkNanos(TimeUnit.MICROSECONDS.toNanos(200)); // pacing
                  }
                }));
      }

      server.stop();
      long stoppedAt = System.nanoTime();
      await("watch told of the outage")
          .atMost(Duration.ofSeconds(10))
          .until(() -> !recorder.errors().isEmpty());
      int snapshotsBeforeOutage = recorder.size();
      // During the outage one member's process goes away (its node outlives it until its session
      // expires) and a new one keeps trying to register.
      Future<?> leftAt = threads.submit(leaving::close);
      AtomicInteger refusedRegistrations = new AtomicInteger();
      ZooKeeperRegistry joiningRegistry =
          registry(ensemble).connectionTimeout(Duration.ofSeconds(1)).build();
      closeables.add(joiningRegistry);
      Future<Registration> joined =
          threads.submit(
              () -> {
                while (true) {
                  try {
                    return joiningRegistry.register(instance("outage", 9004));
                  } catch (RegistryException e) {
                    refusedRegistrations.incrementAndGet();
                  }
                }
              });

      await("members unchanged while ZooKeeper is down")
          .during(OUTAGE.minus(Duration.ofNanos(System.nanoTime() - stoppedAt)))
          .atMost(OUTAGE.plusSeconds(5))
          .until(
              () ->
                  recorder.latestIds().equals(Set.of(A, B, LEAVING))
                      && recorder.size() == snapshotsBeforeOutage
                      && addresses(cluster).equals(Set.of(A, B, LEAVING))
                      && failedPicks.get() == 0);
      assertThat(cluster.snapshot().registryDegraded()).isTrue();
      assertThat(watcher.phase())
          .isIn(ConnectionMonitor.Phase.SUSPENDED, ConnectionMonitor.Phase.LOST);
      assertThat(refusedRegistrations.get()).as("register refused while down").isPositive();

      server.restart();
      long restartedAt = System.nanoTime();
      recorder.awaitIds(A, B, JOINING); // LEAVING goes when the server expires its old session
      await("cluster reconciled")
          .atMost(Duration.ofSeconds(10))
          .until(
              () ->
                  addresses(cluster).equals(Set.of(A, B, JOINING))
                      && !cluster.snapshot().registryDegraded());
      System.out.printf(
          "[outage] %d s outage: members reconciled %d ms after restart; %d leases, %d failed;"
              + " %d registrations refused while down%n",
          OUTAGE.toSeconds(),
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - restartedAt),
          picks.get(),
          failedPicks.get(),
          refusedRegistrations.get());
      stop.set(true);
      for (Future<?> reader : readers) {
        reader.get(10, TimeUnit.SECONDS);
      }
      leftAt.get(10, TimeUnit.SECONDS);
      joined.get(10, TimeUnit.SECONDS);

      assertThat(failedPicks.get()).isZero();
      assertThat(picks.get()).isPositive();
      assertThat(recorder.snapshots())
          .as("A and B never left any snapshot")
          .allMatch(s -> s.ids().contains(A) && s.ids().contains(B));
      assertThat(recorder.overlapped()).isFalse();
      assertThat(watcher.phase()).isEqualTo(ConnectionMonitor.Phase.CONNECTED);
      CuratorFramework check = client(ensemble);
      try {
        Stat stat = check.checkExists().forPath("/services/outage/" + A);
        assertThat(stat.getEphemeralOwner())
            .as("A's node belongs to A's current session")
            .isEqualTo(a.client().getZookeeperClient().getZooKeeper().getSessionId());
      } finally {
        check.close();
      }
    } finally {
      for (AutoCloseable closeable : closeables) {
        closeable.close(); // while the server runs: close deletes nodes
      }
      threads.shutdownNow();
      server.close();
    }
  }
}
