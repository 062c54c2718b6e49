package dev.switchboard.lb.samples.demo;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A {@link DemoServer} in its own JVM, started with this JVM's {@code java} and class path (the
 * demo jar, or the test class path). The parent holds the child's standard input: writing {@code
 * drain} makes it leave gracefully, and closing it (or the parent dying) makes it exit.
 *
 * <p>Thread-safe.
 */
final class ServerProcess {
  /** What the demo did to the process, for the table. */
  enum Fate {
    RUNNING("running"),
    KILLED("killed -9"),
    DRAINING("draining"),
    EXITED("exited");

    final String label;

    Fate(String label) {
      this.label = label;
    }
  }

  private static final int KEPT_LINES = 40;

  final String name;
  private final Process process;
  private final OutputStream stdin;
  private final CompletableFuture<Integer> ready = new CompletableFuture<>();
  private final CompletableFuture<String> drained = new CompletableFuture<>();
  private final ArrayDeque<String> lastLines = new ArrayDeque<>();
  private volatile Fate fate = Fate.RUNNING;
  private volatile int port = -1;

  private ServerProcess(String name, Process process, boolean verbose, PrintStream out) {
    this.name = name;
    this.process = process;
    this.stdin = process.getOutputStream();
    Thread reader =
        new Thread(() -> readOutput(verbose, out), "switchboard-demo-" + name + "-output");
    reader.setDaemon(true);
    reader.start();
    process.onExit().thenRun(() -> fate = fate == Fate.KILLED ? Fate.KILLED : Fate.EXITED);
  }

  /** Starts the process; {@link #awaitReady} waits until it serves and is registered. */
  static ServerProcess launch(String name, String zookeeper, boolean verbose, PrintStream out)
      throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new ArrayList<>();
    command.add(java);
    command.add("-Xmx96m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Djava.net.preferIPv4Stack=true");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(DemoServer.class.getName());
    command.add("--name");
    command.add(name);
    command.add("--zookeeper");
    command.add(zookeeper);
    if (verbose) {
      command.add("--verbose");
    }
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    return new ServerProcess(name, process, verbose, out);
  }

  private void readOutput(boolean verbose, PrintStream out) {
    try (BufferedReader lines =
        new BufferedReader(
            new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      for (String line = lines.readLine(); line != null; line = lines.readLine()) {
        if (line.startsWith("READY ")) {
          port = Integer.parseInt(line.substring(6).strip());
          ready.complete(port);
        } else if (line.startsWith("DRAINED ")) {
          drained.complete(line.substring(8).strip());
        } else if (verbose) {
          out.println("    [" + name + "] " + line);
        }
        synchronized (lastLines) {
          if (lastLines.size() == KEPT_LINES) {
            lastLines.removeFirst();
          }
          lastLines.addLast(line);
        }
      }
    } catch (IOException | RuntimeException e) {
      // the process is gone
    }
    ready.completeExceptionally(new IOException("server " + name + " exited before READY"));
  }

  /**
   * Waits until the server serves and is registered in ZooKeeper; returns its port.
   *
   * @throws IOException with the process's last output if it exits or stays silent
   */
  int awaitReady(Duration timeout) throws IOException, InterruptedException {
    try {
      return ready.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException | TimeoutException e) {
      stop();
      throw new IOException(
          "server "
              + name
              + " did not start within "
              + DemoOptions.human(timeout)
              + "; its output:\n  "
              + String.join("\n  ", lastLines()),
          e);
    }
  }

  private List<String> lastLines() {
    synchronized (lastLines) {
      return new ArrayList<>(lastLines);
    }
  }

  long pid() {
    return process.pid();
  }

  ProcessHandle handle() {
    return process.toHandle();
  }

  /** The port, or -1 before READY. */
  int port() {
    return port;
  }

  String address() {
    return "127.0.0.1:" + port;
  }

  Fate fate() {
    return fate;
  }

  boolean isAlive() {
    return process.isAlive();
  }

  CompletableFuture<Process> onExit() {
    return process.onExit();
  }

  /** Completes with the calls the server served once it has left gracefully. */
  CompletableFuture<String> drained() {
    return drained;
  }

  /** SIGKILL (on Linux and macOS; TerminateProcess on Windows): no drain, no deregistration. */
  void kill() {
    fate = Fate.KILLED;
    process.destroyForcibly();
  }

  /** Asks the server to drain and leave: it stays registered as draining, then exits. */
  void drain() throws IOException {
    fate = Fate.DRAINING;
    synchronized (stdin) {
      stdin.write("drain\n".getBytes(StandardCharsets.UTF_8));
      stdin.flush();
    }
  }

  /**
   * Ends the process and waits for it: closes its input (it exits at once), then SIGTERM, then
   * SIGKILL if it still runs. Idempotent.
   */
  void stop() throws InterruptedException {
    try {
      synchronized (stdin) {
        stdin.close();
      }
    } catch (IOException e) {
      // already closed, or the process is gone
    }
    if (process.isAlive()) {
      if (!process.waitFor(3, TimeUnit.SECONDS)) {
        process.destroy();
        if (!process.waitFor(2, TimeUnit.SECONDS)) {
          process.destroyForcibly();
        }
      }
    }
    process.waitFor(5, TimeUnit.SECONDS);
  }

  @Override
  public String toString() {
    return name + " (pid " + process.pid() + ", " + address() + ")";
  }
}
