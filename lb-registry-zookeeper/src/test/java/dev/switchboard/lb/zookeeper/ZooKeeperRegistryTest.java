package dev.switchboard.lb.zookeeper;

import static dev.switchboard.lb.zookeeper.TestZooKeeper.client;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.instance;
import static dev.switchboard.lb.zookeeper.TestZooKeeper.registry;
import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.test.TestingServer;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The registry against one real ZooKeeper server (shared by the class). */
class ZooKeeperRegistryTest {
  private static TestingServer server;
  private static CuratorFramework admin;
  private final List<AutoCloseable> closeables = new ArrayList<>();

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

  @AfterEach
  void closeAll() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  private ZooKeeperRegistry newRegistry() {
    return track(registry(server.getConnectString()).build());
  }

  private <T extends AutoCloseable> T track(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  @Test
  void register_watch_deregister_membersFollow() throws Exception {
    ZooKeeperRegistry registry = newRegistry();
    Registration a = registry.register(instance("echo", 9001));
    Registration b = registry.register(instance("echo", 9002));
    MembershipRecorder recorder = new MembershipRecorder();
    registry.watch("echo", recorder);

    recorder.awaitIds("127.0.0.1:9001", "127.0.0.1:9002");
    assertThat(recorder.latest("127.0.0.1:9001")).contains(instance("echo", 9001));
    Stat stat = admin.checkExists().forPath("/services/echo/127.0.0.1:9001");
    assertThat(stat.getEphemeralOwner()).as("ephemeral").isNotZero();

    a.close();
    recorder.awaitIds("127.0.0.1:9002");
    assertThat(admin.checkExists().forPath("/services/echo/127.0.0.1:9001")).isNull();
    a.close(); // idempotent
    b.close();
    recorder.awaitIds();
    assertThat(recorder.overlapped()).isFalse();
  }

  @Test
  void watch_serviceWithoutNode_deliversEmptySnapshot() {
    MembershipRecorder recorder = new MembershipRecorder();
    newRegistry().watch("nobody-here", recorder);

    await().atMost(Duration.ofSeconds(10)).until(() -> recorder.size() == 1);
    assertThat(recorder.latest()).isEmpty();
  }

  @Test
  void drain_rewritesNode_watchersSeeDraining() throws Exception {
    ZooKeeperRegistry registry = newRegistry();
    Registration registration = registry.register(instance("drain", 9001));
    MembershipRecorder recorder = new MembershipRecorder();
    newRegistry().watch("drain", recorder);
    recorder.awaitIds("127.0.0.1:9001");

    registration.drain();

    assertThat(registration.instance().draining()).isTrue();
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> recorder.latest("127.0.0.1:9001").map(ServiceInstance::draining).orElse(false));
    byte[] json = admin.getData().forPath("/services/drain/127.0.0.1:9001");
    assertThat(new ObjectMapper().readTree(json).get("enabled").asBoolean()).isFalse();
    registration.close();
    assertThatThrownBy(registration::drain).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void register_sameInstanceTwice_isRejected() {
    ZooKeeperRegistry registry = newRegistry();
    registry.register(instance("twice", 9001));

    assertThatThrownBy(() -> registry.register(instance("twice", 9001)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already registered");
  }

  @Test
  void register_namesThatCannotBeNodes_areRejected() {
    ZooKeeperRegistry registry = newRegistry();
    ServiceInstance slashed = ServiceInstance.builder("echo", "h", 1).id("a/b").build();

    assertThatThrownBy(() -> registry.register(slashed))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("instance id")
        .hasMessageContaining("'a/b'");
    assertThatThrownBy(() -> registry.watch("..", new MembershipRecorder()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'..'");
  }

  @Test
  void register_serverUnreachable_throwsRegistryException() {
    ZooKeeperRegistry registry =
        track(
            ZooKeeperRegistry.builder()
                .connectString("127.0.0.1:1")
                .sessionTimeout(Duration.ofSeconds(1))
                .connectionTimeout(Duration.ofMillis(300))
                .build());
    long start = System.nanoTime();

    assertThatThrownBy(() -> registry.register(instance("echo", 9001)))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("/services/echo/127.0.0.1:9001")
        .hasMessageContaining("127.0.0.1:1");
    System.out.printf(
        "[unreachable] register gave up after %d ms%n",
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  @Test
  void close_deletesNodes_stopsThreads_andRejectsUse() throws Exception {
    Set<Thread> before = TestZooKeeper.threads();

    ZooKeeperRegistry registry = registry(server.getConnectString()).build();
    registry.register(instance("closing", 9001));
    registry.register(instance("closing", 9002));
    MembershipRecorder recorder = new MembershipRecorder();
    registry.watch("closing", recorder);
    recorder.awaitIds("127.0.0.1:9001", "127.0.0.1:9002");
    Set<Thread> started = difference(TestZooKeeper.threads(), before);

    registry.close();
    registry.close(); // idempotent

    assertThat(admin.getChildren().forPath("/services/closing")).isEmpty();
    assertThat(started).as("threads the registry started").isNotEmpty();
    await("threads of the closed registry gone")
        .atMost(Duration.ofSeconds(10))
        .pollInSameThread()
        .untilAsserted(() -> assertThat(started).noneMatch(Thread::isAlive));
    assertThat(difference(TestZooKeeper.threads(), before)).isEmpty();
    System.out.println(
        "[threads] started by a registry, all gone after close: "
            + started.stream().map(Thread::getName).sorted().toList());
    assertThatThrownBy(() -> registry.register(instance("closing", 9003)))
        .isInstanceOf(IllegalStateException.class);
    assertThatThrownBy(() -> registry.watch("closing", new MembershipRecorder()))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void close_withCallersClient_leavesClientOpen_removesNodesAndWatches() throws Exception {
    CuratorFramework callers = client(server.getConnectString());
    try {
      ZooKeeperRegistry registry = ZooKeeperRegistry.builder().client(callers).build();
      registry.register(instance("borrowed", 9001));
      MembershipRecorder recorder = new MembershipRecorder();
      registry.watch("borrowed", recorder);
      recorder.awaitIds("127.0.0.1:9001");
      assertThat(TestZooKeeper.watchedPaths(callers, "PersistentRecursive"))
          .contains("/services/borrowed");
      assertThat(TestZooKeeper.watchedPaths(callers, "Data")) // exists() on a node: a data watch
          .contains("/services/borrowed/127.0.0.1:9001");

      registry.close();

      assertThat(callers.getState()).isEqualTo(CuratorFrameworkState.STARTED);
      assertThat(callers.getChildren().forPath("/services/borrowed")).isEmpty();
      await()
          .atMost(Duration.ofSeconds(10))
          .untilAsserted(
              () -> {
                for (String kind : List.of("PersistentRecursive", "Exist", "Data", "Child")) {
                  assertThat(TestZooKeeper.watchedPaths(callers, kind))
                      .as(kind + " watches")
                      .noneMatch(path -> path.startsWith("/services"));
                }
              });
    } finally {
      callers.close();
    }
  }

  @Test
  void malformedNodes_areSkippedWithOneWarningEach_othersUnaffected() throws Exception {
    String junk = "/services/junk/";
    byte[] megabyte = new byte[1_000_000]; // just under ZooKeeper's default 1 MiB jute.maxbuffer
    Arrays.fill(megabyte, (byte) '{');
    admin.create().creatingParentsIfNeeded().forPath(junk + "not-json", "hello".getBytes(UTF_8));
    admin.create().forPath(junk + "missing-port", json("{\"address\":\"127.0.0.1\"}"));
    admin.create().forPath(junk + "port-zero", json("{\"address\":\"127.0.0.1\",\"port\":0}"));
    admin.create().forPath(junk + "wrong-types", json("{\"address\":42,\"port\":\"x\"}"));
    admin.create().forPath(junk + "garbage-1mb", megabyte);
    admin.create().forPath(junk + "empty", new byte[0]);
    ZooKeeperRegistry registry = newRegistry();
    Registration good = registry.register(instance("junk", 9001));
    MembershipRecorder recorder = new MembershipRecorder();
    ServiceWatch watch = (ServiceWatch) newRegistry().watch("junk", recorder);

    recorder.awaitIds("127.0.0.1:9001");
    assertThat(recorder.latest("127.0.0.1:9001")).contains(good.instance());
    assertThat(watch.malformedWarnings()).isEqualTo(6);

    // Churn among the good members, and a fresh read as after a reconnection: no new warnings.
    for (int port = 9100; port < 9103; port++) {
      Registration extra = registry.register(instance("junk", port));
      recorder.awaitIds("127.0.0.1:9001", "127.0.0.1:" + port);
      extra.close();
      recorder.awaitIds("127.0.0.1:9001");
    }
    watch.refresh();
    assertThat(watch.malformedWarnings()).isEqualTo(6);

    // A changed node is a new version: judged (and warned about) again; fixed, it joins.
    admin.setData().forPath(junk + "not-json", "still not json".getBytes(UTF_8));
    await().atMost(Duration.ofSeconds(10)).until(() -> watch.malformedWarnings() == 7);
    admin.setData().forPath(junk + "port-zero", json("{\"address\":\"127.0.0.1\",\"port\":80}"));
    recorder.awaitIds("127.0.0.1:9001", "port-zero");
    assertThat(watch.malformedWarnings()).isEqualTo(7);
  }

  @Test
  void watch_notifiesWithinMilliseconds_printsLatency() throws Exception {
    ZooKeeperRegistry writer = newRegistry();
    MembershipRecorder recorder = new MembershipRecorder();
    newRegistry().watch("latency", recorder);
    recorder.awaitIds();
    List<Long> micros = new ArrayList<>();

    for (int i = 0; i < 30; i++) {
      ServiceInstance member = instance("latency", 10_000 + i);
      String id = member.id();

      int from = recorder.size();
      long start = System.nanoTime();
      Registration registration = writer.register(member);
      micros.add(micros(start, recorder.awaitFirst(from, s -> s.ids().contains(id)).nanos()));

      from = recorder.size();
      start = System.nanoTime();
      registration.drain();
      micros.add(
          micros(
              start,
              recorder
                  .awaitFirst(
                      from,
                      s -> s.members().stream().anyMatch(m -> m.id().equals(id) && m.draining()))
                  .nanos()));

      from = recorder.size();
      start = System.nanoTime();
      registration.close();
      micros.add(micros(start, recorder.awaitFirst(from, s -> !s.ids().contains(id)).nanos()));
    }

    List<Long> sorted = micros.stream().sorted().toList();
    System.out.printf(
        "[latency] change -> snapshot delivered, %d changes (register/drain/deregister on another"
            + " session): p50 %.2f ms, p90 %.2f ms, p99 %.2f ms, max %.2f ms%n",
        sorted.size(),
        sorted.get(sorted.size() / 2) / 1000.0,
        sorted.get(sorted.size() * 9 / 10) / 1000.0,
        sorted.get(sorted.size() * 99 / 100) / 1000.0,
        sorted.get(sorted.size() - 1) / 1000.0);
    assertThat(recorder.overlapped()).isFalse();
  }

  @Test
  void digestAcl_nodesNotWritableWithoutCredentials_butReadable() throws Exception {
    ZooKeeperRegistry secured =
        track(
            registry(server.getConnectString())
                .basePath("/secured")
                .digestAcl("billing", "s3cret")
                .build());
    secured.register(instance("billing", 9001));
    String node = "/secured/billing/127.0.0.1:9001";

    assertThatThrownBy(() -> admin.setData().forPath(node, json("{}")))
        .isInstanceOf(KeeperException.NoAuthException.class);
    assertThatThrownBy(() -> admin.delete().forPath(node))
        .isInstanceOf(KeeperException.NoAuthException.class);
    assertThatThrownBy(() -> admin.create().forPath("/secured/billing/impostor", json("{}")))
        .isInstanceOf(KeeperException.NoAuthException.class);
    assertThat(admin.getData().forPath(node)).isNotEmpty();
    List<ACL> acl = admin.getACL().forPath(node);
    assertThat(acl)
        .extracting(a -> a.getId().getScheme())
        .containsExactlyInAnyOrder("digest", "world");
    assertThat(acl)
        .filteredOn(a -> a.getId().getScheme().equals("world"))
        .extracting(ACL::getPerms)
        .containsExactly(ZooDefs.Perms.READ);

    assertThat(admin.getACL().forPath("/secured"))
        .as("the base path stays open to other services")
        .isEqualTo(ZooDefs.Ids.OPEN_ACL_UNSAFE);

    MembershipRecorder recorder = new MembershipRecorder();
    track(registry(server.getConnectString()).basePath("/secured").build())
        .watch("billing", recorder);
    recorder.awaitIds("127.0.0.1:9001");

    ZooKeeperRegistry wrongPassword =
        track(
            registry(server.getConnectString())
                .basePath("/secured")
                .digestAcl("billing", "guess")
                .build());
    assertThatThrownBy(() -> wrongPassword.register(instance("billing", 9002)))
        .isInstanceOf(RegistryException.class)
        .hasMessageContaining("not authorised");
  }

  @Test
  void subscriptionClose_stopsNotifications() throws Exception {
    ZooKeeperRegistry registry = newRegistry();
    MembershipRecorder closedRecorder = new MembershipRecorder();
    MembershipRecorder openRecorder = new MembershipRecorder();
    Subscription closed = registry.watch("quiet", closedRecorder);
    registry.watch("quiet", openRecorder);
    closedRecorder.awaitIds();
    openRecorder.awaitIds();

    closed.close();
    closed.close(); // idempotent
    registry.register(instance("quiet", 9001));

    openRecorder.awaitIds("127.0.0.1:9001");
    admin.sync().forPath("/services/quiet"); // one more round trip for stragglers
    assertThat(closedRecorder.size()).isEqualTo(1);
  }

  private static <T> Set<T> difference(Set<T> a, Set<T> b) {
    Set<T> d = new HashSet<>(a);
    d.removeAll(b);
    return d;
  }

  private static long micros(long start, long end) {
    return TimeUnit.NANOSECONDS.toMicros(end - start);
  }

  private static byte[] json(String text) {
    return text.getBytes(UTF_8);
  }
}
