package dev.switchboard.lb.samples.demo;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The demo as a user runs it: real ZooKeeper, real server processes, a real SIGKILL. The scripted
 * run is compressed into 15 s (the script scales with {@code --duration}).
 */
class DemoTest {

  @Test
  void scriptedRun_noFailedCall_killedServerStopsGettingCalls_leavesNoProcess() throws Exception {
    Demo demo = new Demo(DemoOptions.parse("--duration", "15s", "--callers", "6"), System.out);

    DemoSummary summary = demo.run();

    assertThat(summary.failedCalls()).as("failed calls: %s", summary.failureSamples()).isZero();
    assertThat(summary.calls()).isGreaterThan(1_000);
    // The killed server: its last call ended soon after the kill, then it left the cluster when
    // its ZooKeeper session expired, so nothing could be sent to it any more.
    assertThat(summary.killToLastCall()).isLessThan(Duration.ofSeconds(2));
    assertThat(summary.killToRemoval()).as("killed server left the cluster").isPresent();
    assertThat(summary.killToRemoval().get()).isLessThan(Duration.ofSeconds(8));
    // The new server ramped up in slow start and took traffic; the drained one left cleanly.
    assertThat(summary.startedInSlowStart()).isTrue();
    assertThat(summary.startedCalls()).isPositive();
    assertThat(summary.drainedExitCode()).isZero();
    assertThat(summary.drainTime()).isPresent();

    List<ProcessHandle> servers = demo.serverProcesses();
    assertThat(servers).hasSize(4);
    assertThat(servers).noneMatch(ProcessHandle::isAlive);
    assertThat(liveDescendants(ProcessHandle.current())).isEmpty();
  }

  @Test
  void sigterm_likeCtrlC_stopsEveryServerProcess() throws Exception {
    try (DemoProcess demo = DemoProcess.start()) {
      List<ProcessHandle> servers = demo.serversOnceServing();
      assertThat(servers).hasSize(3);

      // SIGTERM: the shutdown hook runs, as on Ctrl-C (SIGINT). Through the handle, because
      // Process.destroy() would also close our end of its output.
      assertThat(demo.process.toHandle().destroy()).isTrue();

      assertThat(demo.process.waitFor(20, TimeUnit.SECONDS)).as("demo exited").isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> servers.stream().noneMatch(alive()));
      assertThat(demo.awaitLine(l -> l.startsWith("Interrupted: stopping"))).isNotNull();
    }
  }

  @Test
  void sigkill_ofTheDemo_serversExitOnTheirOwn() throws Exception {
    try (DemoProcess demo = DemoProcess.start()) {
      List<ProcessHandle> servers = demo.serversOnceServing();
      assertThat(servers).hasSize(3);

      demo.process.destroyForcibly(); // no hook runs: the servers see their input end and exit

      assertThat(demo.process.waitFor(10, TimeUnit.SECONDS)).as("demo killed").isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> servers.stream().noneMatch(alive()));
    }
  }

  private static Predicate<ProcessHandle> alive() {
    return ProcessHandle::isAlive;
  }

  private static List<ProcessHandle> liveDescendants(ProcessHandle process) {
    return process.descendants().filter(ProcessHandle::isAlive).collect(Collectors.toList());
  }

  /**
   * {@link Demo#main} in a JVM of its own, its output read line by line. Closing it kills whatever
   * is left of it and of its servers (only if a test failed half-way).
   */
  private static final class DemoProcess implements AutoCloseable {
    private static final Duration LINE_TIMEOUT = Duration.ofSeconds(60);

    final Process process;
    private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
    private final List<ProcessHandle> servers = new CopyOnWriteArrayList<>();

    private DemoProcess(Process process) {
      this.process = process;
      Thread reader =
          new Thread(
              () -> {
                try (BufferedReader in =
                    new BufferedReader(
                        new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                  for (String line = in.readLine(); line != null; line = in.readLine()) {
                    System.out.println("[demo] " + line);
                    lines.add(line);
                  }
                } catch (IOException e) {
                  // the process is gone
                }
              },
              "demo-output");
      reader.setDaemon(true);
      reader.start();
    }

    static DemoProcess start() throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Process p =
          new ProcessBuilder(
                  java,
                  "-cp",
                  System.getProperty("java.class.path"),
                  Demo.class.getName(),
                  "--duration",
                  "60s",
                  "--callers",
                  "2")
              .redirectErrorStream(true)
              .start();
      return new DemoProcess(p);
    }

    /** Waits for the first table (traffic flows), then returns the demo's child processes. */
    List<ProcessHandle> serversOnceServing() throws InterruptedException {
      assertThat(awaitLine(l -> l.contains("calls/s"))).as("first table").isNotNull();
      servers.addAll(liveDescendants(process.toHandle()));
      return List.copyOf(servers);
    }

    @Override
    public void close() {
      process.descendants().forEach(ProcessHandle::destroyForcibly);
      process.destroyForcibly();
      servers.forEach(ProcessHandle::destroyForcibly);
    }

    String awaitLine(Predicate<String> wanted) throws InterruptedException {
      long deadline = System.nanoTime() + LINE_TIMEOUT.toNanos();
      while (true) {
        String line = lines.poll(deadline - System.nanoTime(), TimeUnit.NANOSECONDS);
        if (line == null || wanted.test(line)) {
          return line;
        }
      }
    }
  }
}
