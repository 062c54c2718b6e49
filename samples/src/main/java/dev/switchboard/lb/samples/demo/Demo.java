package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.EndpointSnapshot;
import dev.switchboard.lb.samples.demo.ClusterEvents.Event;
import dev.switchboard.lb.samples.demo.ClusterEvents.Kind;
import dev.switchboard.lb.status.ClusterStatus;
import dev.switchboard.lb.status.StatusServer;
import java.io.IOException;
import java.io.PrintStream;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.LockSupport;
import org.apache.curator.test.TestingServer;
import org.jspecify.annotations.Nullable;

/**
 * The demo a new user runs first: {@code java -jar samples/target/switchboard-demo.jar}.
 *
 * <p>It starts a ZooKeeper server in this JVM (or uses {@code --zookeeper}), three {@link
 * DemoServer} echo servers in their own JVMs (each registering through {@code @ThriftService}), and
 * a {@link Gateway} whose caller threads send idempotent echo calls through a load-balanced Thrift
 * client. Once a second it prints what the client sees of each server. Then it plays a {@link
 * Script}: {@code kill -9} one server, start a new one (slow start), drain another gracefully; and
 * it ends by itself with a summary. No call should fail.
 *
 * <p>Server processes never outlive the demo: a shutdown hook (Ctrl-C, SIGTERM) stops them, and a
 * server exits by itself when its standard input, held by the demo, reaches its end (the demo died,
 * even by SIGKILL).
 *
 * <p>One {@link #run()} per instance; {@link #run()} is called on one thread, the shutdown hook may
 * run concurrently.
 */
public final class Demo {
  /** Where the demo's servers register in ZooKeeper. */
  static final String BASE_PATH = "/switchboard-demo";

  static final String SERVICE = "echo";
  private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

  private final DemoOptions options;
  private final Script script;
  private final PrintStream out;
  private final ClusterEvents events = new ClusterEvents();
  private final List<ServerProcess> processes = new CopyOnWriteArrayList<>();
  private final Map<String, Long> exitTimes = new ConcurrentHashMap<>();
  private final Object lifecycle = new Object();
  private boolean shutDown; // guarded by lifecycle
  private volatile boolean finished;
  private volatile long startNanos = System.nanoTime();
  private volatile @Nullable TestingServer zooKeeper;
  private volatile @Nullable Gateway gateway;
  private volatile @Nullable StatusServer statusServer;
  private volatile @Nullable Callers callers;
  private volatile @Nullable ScheduledExecutorService ticker;
  private volatile @Nullable DeadServerWatch deadWatch;

  /** What the kill step left to measure. */
  private record Kill(ServerProcess victim, long nanos, DeadServerWatch watch) {}

  Demo(DemoOptions options, PrintStream out) {
    this.options = options;
    this.script = Script.scaledTo(options.duration());
    this.out = out;
  }

  public static void main(String[] args) {
    DemoOptions options;
    try {
      options = DemoOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println(e.getMessage());
      System.err.print(DemoOptions.USAGE);
      System.exit(2);
      return;
    }
    if (options.help()) {
      System.out.print(DemoOptions.USAGE);
      return;
    }
    Logging.configure(options.verbose());
    int status;
    try {
      DemoSummary summary = new Demo(options, System.out).run();
      status = summary.failedCalls() == 0 ? 0 : 1;
    } catch (Exception e) {
      System.err.println("The demo failed: " + e.getMessage());
      e.printStackTrace();
      status = 1;
    }
    System.exit(status); // also ends ZooKeeper's and Curator's non-daemon threads
  }

  /** Plays the script and returns what it measured; every process it started has ended. */
  DemoSummary run() throws Exception {
    Thread hook =
        new Thread(
            () -> {
              if (!finished) {
                out.println();
                out.println("Interrupted: stopping the demo's servers ...");
              }
              shutdown();
            },
            "switchboard-demo-shutdown");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      return play();
    } finally {
      finished = true;
      shutdown();
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException shuttingDown) {
        // the hook is running or has run
      }
    }
  }

  private DemoSummary play() throws Exception {
    out.printf(
        "Switchboard demo: %d caller threads send idempotent echo calls through a client-side"
            + " balancer (%s)%nto Thrift echo servers running in their own JVMs, found through"
            + " ZooKeeper. No proxy in between.%n",
        options.callers(), options.policy());
    out.printf(
        "Script: kill -9 s1 at +%s, start s4 at +%s (slow start over %s), drain s2 at +%s,"
            + " stop at +%s.%n%n",
        DemoOptions.human(script.killAt()),
        DemoOptions.human(script.startAt()),
        DemoOptions.human(script.slowStart()),
        DemoOptions.human(script.drainAt()),
        DemoOptions.human(script.end()));
    String connect = zooKeeper();
    List<ServerProcess> first = startServers(connect);
    Gateway client = new Gateway(connect, options.balancingPolicy(), script.slowStart(), events);
    gateway = client;
    Set<String> addresses = new HashSet<>();
    first.forEach(p -> addresses.add(p.address()));
    client.awaitMembers(addresses, START_TIMEOUT);
    events.takeUnprinted(); // their joins were just announced
    StatusServer status = StatusServer.start(ClusterStatus.of(client.cluster()), 0);
    statusServer = status;
    out.println(
        "Status page " + status.uri() + " (JSON: " + status.uri().resolve("/status.json") + ")");
    out.println();

    Callers load = new Callers(options.callers(), client.echo());
    callers = load;
    startNanos = System.nanoTime();
    TrafficTable table = new TrafficTable(this::serverAt, startNanos);
    load.start();
    ScheduledExecutorService tick =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "switchboard-demo-table");
              t.setDaemon(true);
              return t;
            });
    ticker = tick;
    tick.scheduleAtFixedRate(() -> printTable(table), 1, 1, TimeUnit.SECONDS);
    tick.scheduleWithFixedDelay(this::printEvents, 100, 100, TimeUnit.MILLISECONDS);

    waitUntil(script.killAt());
    Kill kill = killOne(first.get(0), client);
    waitUntil(script.startAt());
    ServerProcess fresh = startOne("s4", connect);
    waitUntil(script.drainAt());
    ServerProcess leaving = first.get(1);
    long drainNanos = drainOne(leaving);

    waitUntil(script.end());
    long endNanos = System.nanoTime();
    load.stop();
    tick.shutdown();
    tick.awaitTermination(5, TimeUnit.SECONDS);
    kill.watch().stop();
    printTable(table);

    Optional<Process> drainedExit = awaitExit(leaving, Duration.ofSeconds(10));
    String victim = kill.victim().address();
    Optional<Event> outOfRotation = events.first(victim, Kind.OUT_OF_ROTATION, kill.nanos());
    Optional<Event> removal = events.first(victim, Kind.LEFT, kill.nanos());
    DemoSummary summary =
        new DemoSummary(
            load.calls(),
            load.failed(),
            table.endpointFailures(),
            Duration.ofNanos(endNanos - startNanos),
            kill.victim().name,
            outOfRotation.map(e -> Duration.ofNanos(e.nanos() - kill.nanos())),
            outOfRotation.map(e -> e.text().substring(e.text().indexOf("-> ") + 3)).orElse("-"),
            Duration.ofNanos(kill.watch().killToLastCallNanos()),
            kill.watch().callsAfterKill(),
            kill.watch().failuresAfterKill(),
            removal.map(e -> Duration.ofNanos(e.nanos() - kill.nanos())),
            fresh.name,
            script.slowStart(),
            table.sawSlowStart(fresh.address()),
            client
                .cluster()
                .snapshot()
                .endpoint(fresh.address())
                .map(EndpointSnapshot::calls)
                .orElse(0L),
            leaving.name,
            drainedExit.map(p -> Duration.ofNanos(exitNanos(leaving) - drainNanos)),
            drainedExit.map(Process::exitValue).orElse(-1),
            load.failureSamples());
    out.println();
    out.print(summary.details());
    out.println(summary.line());
    return summary;
  }

  private String zooKeeper() throws Exception {
    if (options.zookeeper().isPresent()) {
      String connect = options.zookeeper().get();
      out.println("ZooKeeper  " + connect + " (instances under " + BASE_PATH + ")");
      return connect;
    }
    TestingServer server = EmbeddedZooKeeper.start();
    zooKeeper = server;
    out.println("ZooKeeper  embedded, " + server.getConnectString());
    return server.getConnectString();
  }

  /** Starts s1, s2 and s3 together and waits until each serves and is registered. */
  private List<ServerProcess> startServers(String connect) throws Exception {
    List<ServerProcess> servers = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      servers.add(launch("s" + i, connect));
    }
    for (ServerProcess p : servers) {
      p.awaitReady(START_TIMEOUT);
      out.printf(
          "server %s  pid %d, %s, registered by @ThriftService(name = \"%s\")%n",
          p.name, p.pid(), p.address(), SERVICE);
    }
    return servers;
  }

  /** kill -9: no goodbye, no deregistration; its ZooKeeper node stays until its session ends. */
  private Kill killOne(ServerProcess victim, Gateway client) {
    long killNanos = System.nanoTime();
    DeadServerWatch watch = new DeadServerWatch(client.cluster(), victim.address(), killNanos);
    deadWatch = watch;
    watch.start();
    victim.kill();
    announce(
        "kill -9 %s (pid %d, %s): in-flight calls break, its connections are refused;"
            + " ZooKeeper forgets it after %d s",
        victim.name, victim.pid(), victim.address(), DemoServer.SESSION_TIMEOUT.toSeconds());
    return new Kill(victim, killNanos, watch);
  }

  /** A new server: the client ramps its weight up rather than flood a cold JVM. */
  private ServerProcess startOne(String name, String connect) throws Exception {
    ServerProcess fresh = launch(name, connect);
    announce("start %s (pid %d): a new JVM", fresh.name, fresh.pid());
    fresh.awaitReady(START_TIMEOUT);
    announce(
        "%s serves on %s and is registered; the client ramps its weight from 10%% to 100%%"
            + " over %s (slow start)",
        fresh.name, fresh.address(), DemoOptions.human(script.slowStart()));
    return fresh;
  }

  /** A graceful drain: draining in ZooKeeper, in-flight calls finish, deregistered, exits. */
  private long drainOne(ServerProcess leaving) throws IOException {
    long drainNanos = System.nanoTime();
    leaving.drain();
    announce(
        "drain %s (%s): marked draining in ZooKeeper, serves its in-flight calls for %d s,"
            + " deregisters, exits",
        leaving.name, leaving.address(), DemoServer.DRAIN_DELAY.toSeconds());
    leaving
        .drained()
        .thenAccept(
            served ->
                announce(
                    "%s drained and exits, %d ms after the request (it served %,d calls)",
                    leaving.name,
                    (System.nanoTime() - drainNanos) / 1_000_000,
                    Long.parseLong(served)));
    return drainNanos;
  }

  private ServerProcess launch(String name, String connect) throws IOException {
    synchronized (lifecycle) {
      if (shutDown) {
        throw new IllegalStateException("the demo is stopping");
      }
      ServerProcess p = ServerProcess.launch(name, connect, options.verbose(), out);
      processes.add(p);
      p.onExit().thenRun(() -> exitTimes.put(p.name, System.nanoTime()));
      return p;
    }
  }

  private long exitNanos(ServerProcess p) {
    return exitTimes.getOrDefault(p.name, System.nanoTime());
  }

  private static Optional<Process> awaitExit(ServerProcess p, Duration timeout)
      throws InterruptedException {
    try {
      return Optional.of(p.onExit().get(timeout.toMillis(), TimeUnit.MILLISECONDS));
    } catch (ExecutionException | TimeoutException e) {
      return Optional.empty();
    }
  }

  /** Parks until {@code offset} after traffic started. */
  private void waitUntil(Duration offset) throws InterruptedException {
    long deadline = startNanos + offset.toNanos();
    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(left);
      if (Thread.interrupted()) {
        throw new InterruptedException("the demo was interrupted");
      }
    }
  }

  private Optional<TrafficTable.Server> serverAt(String address) {
    for (ServerProcess p : processes) {
      if (p.address().equals(address)) {
        return Optional.of(new TrafficTable.Server(p.name, p.fate()));
      }
    }
    return Optional.empty();
  }

  private void printTable(TrafficTable table) {
    Gateway client = gateway;
    Callers load = callers;
    if (client == null || load == null) {
      return;
    }
    try {
      printEvents();
      long now = System.nanoTime();
      out.print(
          table.render(
              client.cluster().snapshot(), now, now - startNanos, load.calls(), load.failed()));
      out.flush();
    } catch (RuntimeException e) {
      out.println("(table: " + e + ")");
    }
  }

  /** Prints what the cluster reported since the last call (on the table's thread). */
  private void printEvents() {
    StringBuilder block = new StringBuilder();
    for (Event e : events.takeUnprinted()) {
      block.append(
          String.format(
              Locale.ROOT,
              "+%4.1fs      %s %s: %s%n",
              (e.nanos() - startNanos) / 1e9,
              serverAt(e.address()).map(TrafficTable.Server::name).orElse("?"),
              e.address(),
              e.text()));
    }
    if (block.length() > 0) {
      out.print(block);
      out.flush();
    }
  }

  private void announce(String format, Object... args) {
    out.printf(
        Locale.ROOT,
        "+%4.1fs  >>> %s%n",
        (System.nanoTime() - startNanos) / 1e9,
        String.format(Locale.ROOT, format, args));
    out.flush();
  }

  /** Stops everything this demo started, in reverse order. Idempotent; called by the hook too. */
  private void shutdown() {
    synchronized (lifecycle) {
      if (shutDown) {
        return;
      }
      shutDown = true;
    }
    try {
      Callers load = callers;
      if (load != null) {
        load.stop();
      }
      ScheduledExecutorService tick = ticker;
      if (tick != null) {
        tick.shutdownNow();
      }
      DeadServerWatch watch = deadWatch;
      if (watch != null) {
        watch.stop();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeQuietly(statusServer);
    closeQuietly(gateway);
    for (ServerProcess p : processes) {
      try {
        p.stop();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        p.kill();
      }
    }
    TestingServer zk = zooKeeper;
    if (zk != null) {
      try {
        zk.close();
      } catch (IOException | RuntimeException e) {
        out.println("(stopping ZooKeeper: " + e + ")");
      }
    }
  }

  private void closeQuietly(@Nullable AutoCloseable resource) {
    if (resource != null) {
      try {
        resource.close();
      } catch (Exception e) {
        out.println("(closing " + resource + ": " + e + ")");
      }
    }
  }

  /** The process handles of every server started, for tests. */
  List<ProcessHandle> serverProcesses() {
    List<ProcessHandle> handles = new ArrayList<>();
    processes.forEach(p -> handles.add(p.handle()));
    return handles;
  }
}
