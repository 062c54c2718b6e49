package dev.switchboard.lb.zookeeper;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.LineServer;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.testing.LabHost;
import dev.switchboard.lb.testing.NetworkLab;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * Issue 18's scenario 5 on a real ZooKeeper and a real network fault ({@link NetworkLab}): the
 * registry partitioned from the clients (they keep their last known members and lose no call, then
 * reconcile), and one server partitioned from the registry (its session expires, it leaves the
 * clients' membership while still serving, and it re-registers on heal). Sessions of 4 s (the test
 * servers' tick is {@value TestZooKeeper#TICK_MS} ms). Skipped where namespaces cannot be made.
 */
class RegistryPartitionTest {
  private static final String SERVICE = LabZooKeeperMain.SERVICE;

  @Test
  void registryPartitionedFromClients_lastKnownMembersKept_noFailedCall_reconciledOnHeal()
      throws Exception {
    try (NetworkLab lab = NetworkLab.open();
        LineServer a = new LineServer();
        LineServer b = new LineServer();
        LineServer c = new LineServer()) {
      LabHost zkHost = lab.host("zookeeper");
      Child zk = Child.start(zkHost, LabZooKeeperMain.class.getName());
      zk.command("add 127.0.0.1:" + a.port());
      zk.command("add 127.0.0.1:" + b.port());
      String connect = zkHost.address() + ":" + zk.port;
      try (ZooKeeperRegistry registry = TestZooKeeper.registry(connect).build();
          Cluster cluster = Cluster.builder(SERVICE).registry(registry).build();
          Load load = new Load(cluster)) {
        await("both members seen")
            .atMost(Duration.ofSeconds(20))
            .until(() -> members(cluster).equals(ports(a, b)));

        long cut = System.nanoTime();
        zkHost.cutLink();
        // Behind the partition, b leaves and c joins.
        zk.command("remove 127.0.0.1:" + b.port());
        zk.command("add 127.0.0.1:" + c.port());
        long calls = load.calls.get();
        await("partition held past the session timeout")
            .atMost(Duration.ofSeconds(30))
            .until(
                () ->
                    System.nanoTime() - cut > 2 * TestZooKeeper.SESSION_TIMEOUT.toNanos()
                        && load.calls.get() > calls + 1000);
        assertThat(members(cluster))
            .as("last known members while partitioned")
            .isEqualTo(ports(a, b));
        boolean degraded = cluster.snapshot().registryDegraded();

        long healed = System.nanoTime();
        zkHost.heal();
        await("membership reconciled")
            .atMost(Duration.ofSeconds(20))
            .until(() -> members(cluster).equals(ports(a, c)));
        System.out.printf(
            "[5 registry partitioned from clients] %d calls, %d failed; registry degraded while"
                + " cut: %s; reconciled %.1f s after heal%n",
            load.calls.get(), load.failed.get(), degraded, (System.nanoTime() - healed) / 1e9);
        load.close();
        assertThat(load.failures).as("failed calls").isEmpty();
      }
    }
  }

  @Test
  void serverPartitionedFromRegistry_sessionExpires_leavesMembership_reRegistersOnHeal()
      throws Exception {
    InstanceSpec spec =
        new InstanceSpec(
            null, -1, -1, -1, true, -1, TestZooKeeper.TICK_MS, -1, java.util.Map.of(), null);
    try (NetworkLab lab = NetworkLab.open();
        TestingServer zk = new TestingServer(spec, true); // every address: lab hosts reach it
        LineServer local = new LineServer()) {
      LabHost host = lab.host("cut-off");
      String connect = "127.0.0.1:" + zk.getPort();
      Child server =
          Child.start(
              host,
              LabLineServerMain.class.getName(),
              host.address(),
              host.gatewayAddress() + ":" + zk.getPort());
      String remote = host.address() + ":" + server.port;
      try (ZooKeeperRegistry registry = TestZooKeeper.registry(connect).build();
          AutoCloseable localRegistration =
              registry.register(TestZooKeeper.instance(SERVICE, local.port()));
          Cluster cluster = Cluster.builder(SERVICE).registry(registry).build();
          Load load = new Load(cluster)) {
        String localAddress = "127.0.0.1:" + local.port();
        await("both members seen")
            .atMost(Duration.ofSeconds(20))
            .until(() -> members(cluster).equals(Set.of(localAddress, remote)));

        long cut = System.nanoTime();
        host.partitionFromPort(zk.getPort());
        await("session expired, server out of membership")
            .atMost(Duration.ofSeconds(20))
            .until(() -> members(cluster).equals(Set.of(localAddress)));
        long gone = System.nanoTime() - cut;

        long healed = System.nanoTime();
        host.heal();
        await("server re-registered")
            .atMost(Duration.ofSeconds(20))
            .until(() -> members(cluster).equals(Set.of(localAddress, remote)));
        long back = System.nanoTime() - healed;
        load.close();
        System.out.printf(
            "[5 server partitioned from registry] out of membership %.1f s after the cut (session"
                + " %d ms), back %.1f s after heal; %d calls, %d failed%n",
            gone / 1e9,
            TestZooKeeper.SESSION_TIMEOUT.toMillis(),
            back / 1e9,
            load.calls.get(),
            load.failed.get());
        assertThat(server.process.isAlive()).as("server still running").isTrue();
        assertThat(load.failures).as("failed calls").isEmpty();
      }
    }
  }

  private static Set<String> members(Cluster cluster) {
    return cluster.snapshot().endpoints().stream()
        .map(EndpointSnapshot::instance)
        .map(i -> i.address())
        .collect(Collectors.toSet());
  }

  private static Set<String> ports(LineServer... servers) {
    Set<String> out = new java.util.HashSet<>();
    for (LineServer s : servers) {
      out.add("127.0.0.1:" + s.port());
    }
    return out;
  }

  /** Two callers making idempotent calls through the cluster until closed. */
  private static final class Load implements AutoCloseable {
    final AtomicLong calls = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final List<Throwable> failures = new CopyOnWriteArrayList<>();
    private final AtomicBoolean stop = new AtomicBoolean();
    private final List<Thread> threads = new ArrayList<>();

    Load(Cluster cluster) {
      for (int i = 0; i < 2; i++) {
        Thread t =
            new Thread(
                () -> {
                  while (!stop.get()) {
                    try {
                      cluster
                          .newCall(
                              CallContext.builder()
                                  .idempotent(true)
                                  .timeout(Duration.ofSeconds(2), cluster.ticker())
                                  .build())
                          .run(
                              lease -> {
                                Outcome o = LineServer.call(lease.instance(), 1000);
                                if (o != Outcome.SUCCESS) {
                                  lease.complete(o);
                                  throw new IllegalStateException(o + " from " + lease.instance());
                                }
                                return o;
                              });
                      calls.incrementAndGet();
                    } catch (RuntimeException e) {
                      failed.incrementAndGet();
                      if (failures.size() < 10) {
                        failures.add(e);
                      }
                    }
                  }
                },
                "registry-partition-load-" + i);
        threads.add(t);
        t.start();
      }
    }

    @Override
    public void close() throws InterruptedException {
      stop.set(true);
      for (Thread t : threads) {
        t.join();
      }
    }
  }

  /** A main of this module's tests in its own JVM on a lab host; speaks lines on stdin/stdout. */
  private static final class Child {
    final Process process;
    final int port;
    private final BufferedReader out;
    private final PrintWriter in;

    private Child(Process process, BufferedReader out, int port) {
      this.process = process;
      this.out = out;
      this.port = port;
      this.in =
          new PrintWriter(
              new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    }

    static Child start(LabHost host, String main, String... args) throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      List<String> command =
          new ArrayList<>(
              List.of(
                  java,
                  "-Xmx128m",
                  "-XX:TieredStopAtLevel=1",
                  "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                  "-cp",
                  System.getProperty("java.class.path"),
                  main));
      command.addAll(List.of(args));
      Process p = host.start(command);
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line;
      StringBuilder before = new StringBuilder();
      while ((line = out.readLine()) != null) {
        if (line.startsWith("READY ")) {
          return new Child(p, out, Integer.parseInt(line.substring(6).strip()));
        }
        before.append(line).append('\n');
      }
      throw new IOException(main + " in " + host + " exited before READY:\n" + before);
    }

    /** Sends a command and waits for its {@code OK}, skipping log lines. */
    void command(String command) throws IOException {
      in.println(command);
      String line;
      while ((line = out.readLine()) != null) {
        if (line.equals("OK " + command)) {
          return;
        }
      }
      throw new IOException("no answer to '" + command + "': the process exited");
    }
  }
}
