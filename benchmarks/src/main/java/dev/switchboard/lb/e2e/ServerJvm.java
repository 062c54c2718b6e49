package dev.switchboard.lb.e2e;

import dev.switchboard.lb.testing.LabHost;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * One {@link E2eServer} process, started with this JVM's {@code java} and class path. The harness
 * talks to it through its standard input and reads its standard output line by line; closing the
 * input (or the harness dying) ends it. Thread-safe.
 */
final class ServerJvm {
  private static final String END = "\u0000end";

  final int port;
  private final Process process;
  private final Writer stdin;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
  private final StringBuilder transcript = new StringBuilder();

  private ServerJvm(int port, Process process) {
    this.port = port;
    this.process = process;
    this.stdin = process.outputWriter(StandardCharsets.UTF_8);
    Thread reader = new Thread(this::pump, "e2e-server-" + port + "-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  /** Starts a server on {@code port}; {@link #awaitLine} then waits for {@code READY}. */
  static ServerJvm start(int port, String zookeeper, String basePath) throws IOException {
    Process p =
        new ProcessBuilder(command(port, zookeeper, basePath, "127.0.0.1"))
            .redirectErrorStream(true)
            .start();
    return new ServerJvm(port, p);
  }

  /**
   * Starts a server on {@code port} of network lab host {@code host}, listening on and registering
   * the host's address; {@code zookeeper} must be reachable from inside the host.
   */
  static ServerJvm startIn(LabHost host, int port, String zookeeper, String basePath) {
    return new ServerJvm(port, host.start(command(port, zookeeper, basePath, host.address())));
  }

  private static List<String> command(int port, String zookeeper, String basePath, String host) {
    return List.of(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xms32m",
        "-Xmx96m",
        "-XX:+UseSerialGC",
        "-Xss512k",
        "-Djava.net.preferIPv4Stack=true",
        "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
        "-Dorg.slf4j.simpleLogger.log.org.apache.zookeeper=error",
        "-Dorg.slf4j.simpleLogger.log.org.apache.curator=error",
        "-cp",
        System.getProperty("java.class.path"),
        E2eServer.class.getName(),
        "--port",
        Integer.toString(port),
        "--zookeeper",
        zookeeper,
        "--base-path",
        basePath,
        "--host",
        host);
  }

  private void pump() {
    try (BufferedReader out =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = out.readLine(); line != null; line = out.readLine()) {
        synchronized (transcript) {
          if (transcript.length() < 8_000) {
            transcript.append("    ").append(line).append('\n');
          }
        }
        lines.add(line);
      }
    } catch (IOException e) {
      // the process is gone
    }
    lines.add(END);
  }

  /**
   * Waits for an output line starting with {@code prefix}, skipping others.
   *
   * @throws IOException if the process ends first or stays silent for {@code timeout}
   */
  String awaitLine(String prefix, Duration timeout) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
      if (line == null || line.equals(END)) {
        if (line != null) {
          lines.add(END); // later waits fail at once too
        }
        throw new IOException(
            "server on port "
                + port
                + (line == null ? " said no '" + prefix + "' within " + timeout : " exited")
                + "; its output:\n"
                + transcript());
      }
      if (line.startsWith(prefix)) {
        return line;
      }
    }
  }

  private String transcript() {
    synchronized (transcript) {
      return transcript.toString();
    }
  }

  /** Sends one command and waits for its {@code OK}. */
  void command(String command) throws IOException, InterruptedException {
    send(command);
    awaitLine("OK " + command.split(" ")[0], Duration.ofSeconds(10));
  }

  void send(String command) throws IOException {
    synchronized (stdin) {
      stdin.write(command + "\n");
      stdin.flush();
    }
  }

  /** Asks the server to drain and waits until it has left and exited. */
  void drain(Duration timeout) throws IOException, InterruptedException {
    send("drain");
    awaitLine("DRAINED", timeout);
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      throw new IOException("server on port " + port + " drained but did not exit");
    }
  }

  /** CPU time the process has used so far, or 0 if the system does not tell (or it ended). */
  long cpuNanos() {
    return process.info().totalCpuDuration().map(java.time.Duration::toNanos).orElse(0L);
  }

  /** SIGKILL on Linux: no drain, no deregistration; the ZooKeeper session expires later. */
  void kill() {
    process.destroyForcibly();
  }

  /** Closes the input: the server halts at once. Idempotent. */
  void closeInput() {
    try {
      synchronized (stdin) {
        stdin.close();
      }
    } catch (IOException e) {
      // already closed, or the process is gone
    }
  }

  /** Waits for the process to end after {@link #closeInput}, killing it if it lingers. */
  void awaitExit() throws InterruptedException {
    if (!process.waitFor(3, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      process.waitFor(5, TimeUnit.SECONDS);
    }
  }
}
