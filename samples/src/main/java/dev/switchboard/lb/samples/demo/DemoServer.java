package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.samples.echo.Echo;
import dev.switchboard.lb.samples.echo.EchoFailure;
import dev.switchboard.lb.thrift.ThriftServer;
import dev.switchboard.lb.thrift.ThriftService;
import dev.switchboard.lb.zookeeper.ZooKeeperRegistry;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.apache.thrift.TException;

/**
 * One demo echo server, run by {@link Demo} in its own JVM: {@code DemoServer --name s1 --zookeeper
 * 127.0.0.1:2181}. It serves Echo on a free port of 127.0.0.1, registers in ZooKeeper through the
 * {@link ThriftService} annotation on its handler, prints {@code READY <port>}, then reads commands
 * on standard input:
 *
 * <ul>
 *   <li>{@code drain}: leave gracefully ({@link ThriftServer#close()}: marked draining,
 *       deregistered, in-flight calls finished, stopped), print {@code DRAINED}, exit 0;
 *   <li>end of input: the demo is done, or has gone (even if it was killed with SIGKILL):
 *       deregister if ZooKeeper still answers and exit within a second. A demo server never
 *       outlives its demo.
 * </ul>
 */
public final class DemoServer {
  /** The ZooKeeper session of a server: a killed server's registration is gone this long after. */
  static final Duration SESSION_TIMEOUT = Duration.ofSeconds(3);

  /** How long a draining server keeps serving before it deregisters (clients stop picking it). */
  static final Duration DRAIN_DELAY = Duration.ofSeconds(1);

  /** The longest a server takes to exit once its input ends. */
  static final Duration EXIT_GRACE = Duration.ofSeconds(1);

  private static final String EOF = "end of input";

  private DemoServer() {}

  /** The echo service, registered as {@code echo} by its annotation. */
  @ThriftService(name = "echo", weight = 100)
  static final class EchoHandler implements Echo.Iface {
    private final String name;
    private final AtomicLong calls = new AtomicLong();

    EchoHandler(String name) {
      this.name = name;
    }

    @Override
    public String echo(String message) {
      calls.incrementAndGet();
      return message;
    }

    @Override
    public void fire(String message) {
      calls.incrementAndGet();
    }

    @Override
    public String fail(String message) throws EchoFailure {
      calls.incrementAndGet();
      throw new EchoFailure(message);
    }

    @Override
    public String sleep(int millis, String message) throws TException {
      calls.incrementAndGet();
      try {
        Thread.sleep(Math.max(0, millis));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TException("interrupted", e);
      }
      return message;
    }

    @Override
    public long count() {
      return calls.get();
    }

    @Override
    public String whoami() {
      calls.incrementAndGet();
      return name;
    }
  }

  public static void main(String[] args) {
    String name = "server";
    String zookeeper = null;
    boolean verbose = false;
    for (int i = 0; i < args.length; i++) {
      switch (args[i]) {
        case "--name" -> name = args[++i];
        case "--zookeeper" -> zookeeper = args[++i];
        case "--verbose" -> verbose = true;
        default -> {
          System.out.println("unknown option " + args[i]);
          System.exit(2);
        }
      }
    }
    if (zookeeper == null) {
      System.out.println("--zookeeper host:port is required");
      System.exit(2);
      return;
    }
    Logging.configure(verbose);
    try {
      run(name, zookeeper);
    } catch (Exception e) {
      System.out.println("server " + name + " failed: " + e);
      e.printStackTrace(System.out);
      System.exit(1);
    }
    System.exit(0);
  }

  private static void run(String name, String zookeeper)
      throws TException, InterruptedException, ExecutionException {
    // Commands come on standard input, read from the start: a demo that dies while this server
    // is still starting (say, waiting for ZooKeeper) must not leave it behind.
    CompletableFuture<String> command = new CompletableFuture<>();
    AtomicBoolean serving = new AtomicBoolean();
    Thread reader =
        new Thread(
            () -> {
              String first = readCommand();
              if (!serving.get() && first.equals(EOF)) {
                Runtime.getRuntime().halt(0);
              }
              command.complete(first);
            },
            "commands");
    reader.setDaemon(true);
    reader.start();

    ZooKeeperRegistry registry =
        ZooKeeperRegistry.builder()
            .connectString(zookeeper)
            .basePath(Demo.BASE_PATH)
            .sessionTimeout(SESSION_TIMEOUT)
            .connectionTimeout(Duration.ofSeconds(10))
            .build();
    EchoHandler handler = new EchoHandler(name);
    ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host("127.0.0.1")
            .registry(registry)
            .port(0)
            .drain(DRAIN_DELAY, Duration.ofSeconds(10))
            .start();
    serving.set(true);
    System.out.println("READY " + server.port());
    System.out.flush();

    if (command.get().equals("drain")) {
      server.close(); // draining in ZooKeeper, wait, deregister, wait for in-flight, stop
      registry.close();
      System.out.println("DRAINED " + handler.count());
      System.out.flush();
      return;
    }
    // End of input: the demo is done or gone. Deregister while ZooKeeper still answers (so no
    // stale member outlives the run), but never wait long: the ZooKeeper may have died with it.
    Thread watchdog =
        new Thread(
            () -> {
              LockSupport.parkNanos(EXIT_GRACE.toNanos());
              Runtime.getRuntime().halt(0);
            },
            "exit-watchdog");
    watchdog.setDaemon(true);
    watchdog.start();
    registry.close();
  }

  /**
   * Reads standard input until a {@code drain} line ({@code "drain"}) or its end ({@link #EOF}).
   */
  private static String readCommand() {
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        if (line.strip().equals("drain")) {
          return "drain";
        }
      }
    } catch (IOException e) {
      // as good as the end
    }
    return EOF;
  }
}
