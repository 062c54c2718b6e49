package dev.switchboard.lb.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.ServiceInstance;
import java.lang.reflect.Method;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/** Real ZooKeeper servers and clients for this module's tests, on 127.0.0.1 only. */
final class TestZooKeeper {
  /**
   * Server tick. ZooKeeper grants sessions between 2 and 20 ticks, so 0.4 s to 4 s here: session
   * expiry tests stay short, and nothing in a test class outlives its server by much.
   */
  static final int TICK_MS = 200;

  /** Session timeout of test registries (the largest the test servers grant). */
  static final Duration SESSION_TIMEOUT = Duration.ofMillis(20L * TICK_MS);

  private TestZooKeeper() {}

  /** A spec for one server bound to 127.0.0.1 with a short tick. */
  static InstanceSpec spec() {
    Map<String, Object> properties = Map.of("clientPortAddress", "127.0.0.1");
    return new InstanceSpec(null, -1, -1, -1, true, -1, TICK_MS, -1, properties, "127.0.0.1");
  }

  /** Starts a standalone server on 127.0.0.1. */
  static TestingServer startServer() throws Exception {
    return new TestingServer(spec(), true);
  }

  /** A registry on {@code connectString} with short test timeouts. */
  static ZooKeeperRegistry.Builder registry(String connectString) {
    return ZooKeeperRegistry.builder()
        .connectString(connectString)
        .sessionTimeout(SESSION_TIMEOUT)
        .connectionTimeout(Duration.ofSeconds(3));
  }

  /** A plain started Curator client, connected. */
  static CuratorFramework client(String connectString) throws InterruptedException {
    CuratorFramework client =
        CuratorFrameworkFactory.builder()
            .connectString(connectString)
            .sessionTimeoutMs((int) SESSION_TIMEOUT.toMillis())
            .connectionTimeoutMs(3_000)
            .retryPolicy(new RetryOneTime(100))
            .build();
    client.start();
    assertThat(client.blockUntilConnected(10, TimeUnit.SECONDS)).as("connected").isTrue();
    return client;
  }

  static ServiceInstance instance(String service, int port) {
    return ServiceInstance.builder(service, "127.0.0.1", port).build();
  }

  /**
   * Expires {@code client}'s session on the server, as a network partition longer than the session
   * timeout would: a second handle joins the session and closes it, so the server deletes its
   * ephemeral nodes at once and the client learns of the expiry when it reconnects.
   */
  static void expireSessionOnServer(CuratorFramework client, String connectString)
      throws Exception {
    ZooKeeper handle = client.getZookeeperClient().getZooKeeper();
    CountDownLatch connected = new CountDownLatch(1);
    ZooKeeper twin =
        new ZooKeeper(
            connectString,
            (int) SESSION_TIMEOUT.toMillis(),
            event -> {
              if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
              }
            },
            handle.getSessionId(),
            handle.getSessionPasswd());
    try {
      assertThat(connected.await(10, TimeUnit.SECONDS)).as("twin handle connected").isTrue();
    } finally {
      twin.close();
    }
  }

  /**
   * The paths a client watches, by kind: {@code "PersistentRecursive"}, {@code "Exist"}, {@code
   * "Data"} or {@code "Child"} (ZooKeeper keeps these accessors protected, for tests).
   */
  @SuppressWarnings("unchecked")
  static List<String> watchedPaths(CuratorFramework client, String kind) throws Exception {
    Method method = ZooKeeper.class.getDeclaredMethod("get" + kind + "Watches");
    method.setAccessible(true);
    return (List<String>) method.invoke(client.getZookeeperClient().getZooKeeper());
  }

  /** The live threads. */
  static Set<Thread> threads() {
    Set<Thread> threads = new HashSet<>();
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.isAlive()) {
        threads.add(thread);
      }
    }
    return threads;
  }
}
