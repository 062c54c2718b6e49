package dev.switchboard.lb.e2e;

import dev.switchboard.lb.thrift.ThriftServer;
import dev.switchboard.lb.thrift.ThriftService;
import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import dev.switchboard.lb.zookeeper.ZooKeeperRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

/**
 * One echo server of the end-to-end harness, in its own JVM. Arguments: {@code --port P --zookeeper
 * HOST:PORT --base-path /path [--host ADDRESS]}. It serves Echo on {@code ADDRESS} (127.0.0.1
 * unless given: a network lab host's address) at the port the harness chose (fixed, so HAProxy's
 * static configuration stays valid across restarts), registers in ZooKeeper through {@link
 * ThriftService}, prints {@code READY <port>}, then obeys one command per line on standard input,
 * acknowledging each with {@code OK <command>}:
 *
 * <ul>
 *   <li>{@code slow <ms>}: every echo sleeps {@code ms} milliseconds first (0 ends it);
 *   <li>{@code burn}: pins this process to the machine's last CPU (with {@code taskset}, if
 *       present) and starts {@value #BURNERS} busy threads there: a server at 100% CPU, its own
 *       threads getting a small share of that CPU;
 *   <li>{@code drain}: leaves through {@link ThriftServer#close()} (draining in the registry,
 *       deregistered, in-flight calls finished, stopped), prints {@code DRAINED <calls>}, exits;
 *   <li>end of input (the harness finished or died): exits at once.
 * </ul>
 */
public final class E2eServer {
  static final String SERVICE = "echo";

  /** A SIGKILLed server's registration disappears this long after its death. */
  static final Duration SESSION_TIMEOUT = Duration.ofSeconds(3);

  /** How long a draining server stays registered as draining before it deregisters. */
  static final Duration DRAIN_DELAY = Duration.ofMillis(500);

  /**
   * Busy threads of a burning server. Linux's scheduler favours a thread that wakes from I/O, so
   * with only one or two the server barely slows; four leave its threads about a fifth of the CPU.
   */
  static final int BURNERS = 4;

  private static final List<Thread> burners = new ArrayList<>();
  private static volatile long sink;

  private E2eServer() {}

  /** The Echo service; {@code echo} honours the injected delay. */
  @ThriftService(name = SERVICE)
  static final class Handler implements Echo.Iface {
    private final AtomicLong served = new AtomicLong();
    private volatile int delayMillis;

    @Override
    public String echo(String message) {
      served.incrementAndGet();
      int delay = delayMillis;
      if (delay > 0) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(delay));
      }
      return message;
    }

    @Override
    public void fire(String message) {
      served.incrementAndGet();
    }

    @Override
    public String fail(String message) throws EchoFailure {
      served.incrementAndGet();
      throw new EchoFailure(message);
    }

    @Override
    public String sleep(int millis, String message) {
      served.incrementAndGet();
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(Math.max(0, millis)));
      return message;
    }

    @Override
    public long count() {
      return served.get();
    }

    @Override
    public String whoami() {
      served.incrementAndGet();
      return "e2e-server-" + ProcessHandle.current().pid();
    }
  }

  public static void main(String[] args) throws Exception {
    int port = -1;
    String zookeeper = null;
    String basePath = null;
    String host = "127.0.0.1";
    for (int i = 0; i + 1 < args.length; i += 2) {
      switch (args[i]) {
        case "--port" -> port = Integer.parseInt(args[i + 1]);
        case "--zookeeper" -> zookeeper = args[i + 1];
        case "--base-path" -> basePath = args[i + 1];
        case "--host" -> host = args[i + 1];
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
    }
    if (port <= 0 || zookeeper == null || basePath == null) {
      System.out.println(
          "usage: E2eServer --port P --zookeeper 127.0.0.1:N --base-path /p [--host ADDRESS]");
      System.exit(2);
      return;
    }
    // One thread reads standard input from the start: if the harness dies while this server is
    // still starting (waiting for ZooKeeper, say), the end of input ends the process at once, so
    // no server ever outlives its harness.
    Thread commands = new Thread(E2eServer::readCommands, "e2e-server-commands");
    commands.start();

    Running r;
    try {
      r = serve(host, port, zookeeper, basePath);
    } catch (Throwable e) {
      // The command thread would keep a failed server alive: end it here, saying why.
      System.out.println("FAILED " + e);
      e.printStackTrace(System.out);
      System.out.flush();
      Runtime.getRuntime().halt(1);
      return;
    }
    running = r;
    System.out.println("READY " + r.server.port());
    System.out.flush();
  }

  private static Running serve(String host, int port, String zookeeper, String basePath)
      throws org.apache.thrift.TException {
    ZooKeeperRegistry registry =
        ZooKeeperRegistry.builder()
            .connectString(zookeeper)
            .basePath(basePath)
            .sessionTimeout(SESSION_TIMEOUT)
            .connectionTimeout(Duration.ofSeconds(10))
            .build();
    Handler handler = new Handler();
    ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host(host)
            .registry(registry)
            .port(port)
            .drain(DRAIN_DELAY, Duration.ofSeconds(10))
            .start();
    return new Running(handler, server, registry);
  }

  /** What the commands act on, once serving. */
  private record Running(Handler handler, ThriftServer server, ZooKeeperRegistry registry) {}

  private static volatile Running running;

  /**
   * Reads commands until {@code drain} or the end of input, then ends the process. Before the
   * server serves, only the end of input matters.
   */
  private static void readCommands() {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        Running r = running;
        String[] words = line.strip().split("\\s+");
        if (r == null) {
          continue;
        }
        switch (words[0]) {
          case "slow" -> r.handler.delayMillis = Integer.parseInt(words[1]);
          case "burn" -> burn();
          case "drain" -> {
            r.server.close();
            r.registry.close();
            System.out.println("DRAINED " + r.handler.count());
            System.out.flush();
            Runtime.getRuntime().halt(0);
          }
          default -> {
            System.out.println("UNKNOWN " + line);
            continue;
          }
        }
        System.out.println("OK " + words[0]);
        System.out.flush();
      }
    } catch (IOException | RuntimeException e) {
      // as good as the end of input
    }
    // End of input: no deregistration (ZooKeeper expires the session, or went with the
    // harness); exit without waiting for anything.
    Runtime.getRuntime().halt(0);
  }

  /** Pins the process to the last CPU and keeps it busy there. */
  private static synchronized void burn() {
    if (!burners.isEmpty()) {
      return;
    }
    int cpu = Runtime.getRuntime().availableProcessors() - 1;
    pinTo(cpu);
    for (int i = 0; i < BURNERS; i++) {
      Thread t = new Thread(E2eServer::spin, "e2e-burner-" + i);
      t.setDaemon(true);
      t.start();
      burners.add(t);
    }
  }

  private static void pinTo(int cpu) {
    String pid = Long.toString(ProcessHandle.current().pid());
    try {
      Process taskset =
          new ProcessBuilder("taskset", "-a", "-c", "-p", Integer.toString(cpu), pid)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.DISCARD)
              .start();
      taskset.waitFor(5, TimeUnit.SECONDS);
    } catch (IOException e) {
      System.out.println("NOTE taskset not available; burning without pinning");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void spin() {
    long x = System.nanoTime();
    while (true) {
      for (int i = 0; i < 1_000_000; i++) {
        x ^= x << 13;
        x ^= x >>> 7;
        x ^= x << 17;
      }
      sink = x;
    }
  }
}
