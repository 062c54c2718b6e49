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
 * compared with: {@code balance leastconn}, {@code check inter 2s}, {@code option redispatch},
 * started in the foreground (so it stays this JVM's child) with a generated configuration in a
 * temporary directory, and an admin socket there for its per-server statistics. Thread-safe.
 */
final class HaProxy implements AutoCloseable {
  static final String BACKEND = "echo_servers";

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

  /** The configuration for a frontend on {@code port} over {@code servers} ({@code host:port}). */
  static String config(int port, List<String> servers, Path socket, int maxconn) {
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
        .append("  timeout connect 500ms\n")
        .append("  timeout client 60s\n")
        .append("  timeout server 60s\n")
        .append("  retries 3\n")
        .append("  option redispatch\n")
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
          .append(" check inter 2s\n");
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
  static HaProxy start(Path executable, List<String> servers)
      throws IOException, InterruptedException {
    Path dir = Files.createTempDirectory("switchboard-e2e-haproxy");
    Path socket = dir.resolve("admin.sock");
    int port = Fleet.freePorts(1)[0];
    Path cfg = dir.resolve("haproxy.cfg");
    Files.writeString(cfg, config(port, servers, socket, 2_048)); // far above --callers
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

  /** One server's line of {@code show stat}. */
  record ServerStat(String status, long sessions, long connectAttempts) {}

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
              number(field(header, f, "connect"))));
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
      ServerStat s = stats().get(name);
      if (s != null && s.status().equals("UP")) {
        return;
      }
      if (System.nanoTime() - deadline > 0) {
        throw new IOException("haproxy did not mark " + name + " UP within " + timeout + ": " + s);
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
