package dev.switchboard.lb.thrift;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** An {@link EchoServerMain} in a separate JVM process, on 127.0.0.1 or a network lab host. */
final class ServerProcess implements AutoCloseable {
  final Process process;
  final int port;

  private ServerProcess(Process process, int port) {
    this.process = process;
    this.port = port;
  }

  /** Starts the process on 127.0.0.1 and waits for its READY line. */
  static ServerProcess start() throws IOException, InterruptedException {
    return await(new ProcessBuilder(command()).redirectErrorStream(true).start());
  }

  /**
   * The command line of an {@link EchoServerMain} JVM listening on {@code bindHost} (none: on
   * 127.0.0.1), for a launcher of one's own (a network lab host).
   */
  static List<String> command(String... bindHost) {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command =
        new ArrayList<>(
            List.of(
                java,
                "-Xmx128m",
                "-XX:TieredStopAtLevel=1",
                "-cp",
                System.getProperty("java.class.path"),
                EchoServerMain.class.getName()));
    command.addAll(List.of(bindHost));
    return command;
  }

  /**
   * Waits for a started {@link #command} process (its stderr merged into stdout) to print its READY
   * line, then discards its output.
   */
  static ServerProcess await(Process p) throws IOException, InterruptedException {
    BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
    StringBuilder before = new StringBuilder();
    String line;
    while ((line = out.readLine()) != null) {
      if (!line.startsWith("READY ")) {
        before.append(line).append('\n');
      } else {
        int port = Integer.parseInt(line.substring(6).trim());
        Thread drain =
            new Thread(
                () -> {
                  try {
                    while (out.readLine() != null) {
                      // discard the child's log
                    }
                  } catch (IOException ignored) {
                    // the process died
                  }
                },
                "server-process-output-" + port);
        drain.setDaemon(true);
        drain.start();
        return new ServerProcess(p, port);
      }
    }
    p.destroyForcibly();
    throw new IOException(
        "server process exited before READY: exit "
            + (p.waitFor(5, TimeUnit.SECONDS) ? p.exitValue() : "(still running)")
            + ", output:\n"
            + before);
  }

  /** SIGKILL: no shutdown hooks, no FIN from a graceful close. */
  void kill() {
    process.destroyForcibly();
    try {
      process.waitFor(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    kill();
  }
}
