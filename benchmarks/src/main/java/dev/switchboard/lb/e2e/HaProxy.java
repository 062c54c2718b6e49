package dev.switchboard.lb.e2e;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Stream;

/**
 * HAProxy in TCP mode in front of one cell's servers, as the baseline a client-side balancer is
 * compared with: {@code balance leastconn}, {@code check inter 2s}, {@code option redispatch} (or
 * {@link #TUNED}'s settings against network faults), started in the foreground (so it stays this
 * JVM's child) with a generated configuration in a temporary directory, and an admin socket there
 * for its per-server statistics. Thread-safe.
 */
final class HaProxy implements AutoCloseable {
  static final String BACKEND = "echo_servers";

  /**
   * The settings against network faults, each from HAProxy's configuration manual: a short {@code
   * timeout connect} (a LAN connect takes well under a millisecond; a black-holed one never ends)
   * with {@code retries 2} and {@code option redispatch 1} (every retry goes to another server);
   * checks every second, {@code fastinter 250ms} once one fails, {@code fall 2 rise 2}, the check's
   * connect bounded by {@code timeout connect} and its read by {@code timeout check}; {@code
   * observe layer4 error-limit 1 on-error mark-down} (a failed connection of real traffic marks the
   * server down at once); {@code on-marked-down shutdown-sessions} (connections hung on a server
   * marked down are closed, so their clients retry elsewhere instead of waiting out {@code timeout
   * server}); {@code timeout server} equal to the client's deadline.
   */
  static final String TUNED =
      """
        timeout connect 250ms
        timeout check 500ms
        timeout client 60s
        timeout server 10s
        retries 2
        option redispatch 1
      """;

  /** The per-server part of {@link #TUNED}. */
  static final String TUNED_SERVER =
      "check inter 1s fastinter 250ms downinter 1s fall 2 rise 2 observe layer4 error-limit 1"
          + " on-error mark-down on-marked-down shutdown-sessions";

  private final Process process;
  private final Path dir;
  private final Path socket;
  final int port;

  private HaProxy(Process process, Path dir, Path socket, int port) {
    this.process = process;
    this.dir = dir;
    this.socket = socket;
    this.port = port;
  }

  /** The haproxy executable: Debian's {@code /usr/sbin/haproxy}, else the first on the PATH. */
  static Optional<Path> find() {
    Path debian = Path.of("/usr/sbin/haproxy");
    if (Files.isExecutable(debian)) {
      return Optional.of(debian);
    }
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String d : path.split(java.io.File.pathSeparator)) {
      Path candidate = Path.of(d, "haproxy");
      if (!d.isEmpty() && Files.isExecutable(candidate)) {
        return Optional.of(candidate);
      }
    }
    return Optional.empty();
  }

  /**
   * The configuration for a frontend on {@code port} over {@code servers} ({@code host:port}), with
   * the {@link #TUNED} settings if {@code tuned}.
   */
  static String config(int port, List<String> servers, Path socket, int maxconn, boolean tuned) {
    StringBuilder c = new StringBuilder();
    c.append("global\n")
        .append("  maxconn ")
        .append(maxconn * 2)
        .append('\n')
        .append("  stats socket ")
        .append(socket)
        .append(" mode 600 level admin\n")
        .append("defaults\n")
        .append("  mode tcp\n")
        .append(
            tuned
                ? TUNED
                : "  timeout connect 500ms\n  timeout client 60s\n  timeout server 60s\n"
                    + "  retries 3\n  option redispatch\n")
        .append("frontend echo\n")
        .append("  bind 127.0.0.1:")
        .append(port)
        .append('\n')
        .append("  maxconn ")
        .append(maxconn)
        .append('\n')
        .append("  default_backend ")
        .append(BACKEND)
        .append('\n')
        .append("backend ")
        .append(BACKEND)
        .append('\n')
        .append("  balance leastconn\n");
    for (int i = 0; i < servers.size(); i++) {
      c.append("  server ")
          .append(serverName(i))
          .append(' ')
          .append(servers.get(i))
          .append(tuned ? " " + TUNED_SERVER + "\n" : " check inter 2s\n");
    }
    return c.toString();
  }

  /** The name of the {@code i}th server in the configuration. */
  static String serverName(int i) {
    return "s" + (i + 1);
  }

  /**
   * Starts {@code executable} over {@code servers} on a free port and waits until its frontend
   * accepts connections.
   */
  static HaProxy start(Path executable, List<String> servers, boolean tuned)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("switchboard-e2e-haproxy");
    Path socket = dir.resolve("admin.sock");
    int port = Fleet.freePorts(1)[0];
    Path cfg = dir.resolve("haproxy.cfg");
    Files.writeString(cfg, config(port, servers, socket, 2_048, tuned)); // far above --callers
    Process p =
        new ProcessBuilder(executable.toString(), "-db", "-f", cfg.toString())
            .redirectErrorStream(true)
            .redirectOutput(dir.resolve("haproxy.log").toFile())
            .start();
    HaProxy haproxy = new HaProxy(p, dir, socket, port);
    try {
      haproxy.awaitListening(Duration.ofSeconds(10));
      return haproxy;
    } catch (IOException | RuntimeException e) {
      haproxy.close();
      throw e;
    }
  }

  private void awaitListening(Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      if (!process.isAlive()) {
        throw new IOException("haproxy exited at start:\n" + log());
      }
      if (Files.exists(socket)) {
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress("127.0.0.1", port), 200);
          return;
        } catch (IOException e) {
          // not yet
        }
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException("haproxy did not listen on 127.0.0.1:" + port + ":\n" + log());
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(20));
    }
  }

  private String log() {
    try {
      return Files.readString(dir.resolve("haproxy.log"));
    } catch (IOException e) {
      return "(no log: " + e + ")";
    }
  }

  /**
   * One server's line of {@code show stat}: its state, connections ({@code stot}), connection
   * attempts ({@code connect}) and bytes forwarded to and from it ({@code bin + bout}; HAProxy adds
   * them up when it processes a connection's stream, at its end at the latest, not as each call's
   * bytes pass on an established connection).
   */
  record ServerStat(String status, long sessions, long connectAttempts, long bytes) {}

  /** Every backend server's statistics, by server name, from the admin socket. */
  Map<String, ServerStat> stats() throws IOException {
    String csv = ask("show stat");
    Map<String, ServerStat> byServer = new HashMap<>();
    String[] header = null;
    for (String line : csv.split("\n")) {
      if (line.startsWith("# ")) {
        header = line.substring(2).split(",", -1);
        continue;
      }
      if (header == null || line.isBlank()) {
        continue;
      }
      String[] f = line.split(",", -1);
      if (!BACKEND.equals(field(header, f, "pxname"))) {
        continue;
      }
      String name = field(header, f, "svname");
      if (name.equals("BACKEND")) {
        continue;
      }
      byServer.put(
          name,
          new ServerStat(
              field(header, f, "status"),
              number(field(header, f, "stot")),
              number(field(header, f, "connect")),
              number(field(header, f, "bin")) + number(field(header, f, "bout"))));
    }
    return byServer;
  }

  private static String field(String[] header, String[] fields, String name) {
    for (int i = 0; i < header.length && i < fields.length; i++) {
      if (header[i].equals(name)) {
        return fields[i];
      }
    }
    return "";
  }

  private static long number(String s) {
    return s.isEmpty() ? 0 : Long.parseLong(s);
  }

  /** Waits until HAProxy's checks report server {@code i} fully up. */
  void awaitUp(int i, Duration timeout) throws IOException {
    String name = serverName(i);
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      ServerStat s = null;
      String problem = "";
      try {
        s = stats().get(name);
      } catch (IOException e) {
        // its admin socket refused a connection once under heavy load: ask again
        problem = " (admin socket: " + e + ")";
      }
      if (s != null && s.status().equals("UP")) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException(
            "haproxy did not mark " + name + " UP within " + timeout + ": " + s + problem);
      }
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(50));
    }
  }

  private String ask(String command) throws IOException {
    try (SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX)) {
      ch.connect(UnixDomainSocketAddress.of(socket));
      ch.write(ByteBuffer.wrap((command + "\n").getBytes(StandardCharsets.US_ASCII)));
      StringBuilder reply = new StringBuilder();
      ByteBuffer buf = ByteBuffer.allocate(16 * 1024);
      while (ch.read(buf) >= 0) {
        buf.flip();
        reply.append(StandardCharsets.US_ASCII.decode(buf));
        buf.clear();
      }
      return reply.toString();
    }
  }

  /** Stops HAProxy (SIGTERM, then SIGKILL) and deletes its directory. Idempotent. */
  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(3, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(3, TimeUnit.SECONDS);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      process.destroyForcibly();
    }
    try (Stream<Path> files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(HaProxy::delete);
    } catch (IOException | UncheckedIOException e) {
      // a temporary directory left behind is harmless
    }
  }

  private static void delete(Path p) {
    try {
      Files.deleteIfExists(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
