package dev.switchboard.lb.e2e;

import dev.switchboard.lb.testing.LabHost;
import dev.switchboard.lb.testing.NetworkLab;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;
import org.jspecify.annotations.Nullable;

/**
 * The end-to-end comparison: echo servers as separate JVMs on 127.0.0.1 under a closed-loop load,
 * reached through Switchboard, directly (one server, the overhead baseline) and through HAProxy in
 * TCP mode, in five scenarios (steady; one server killed; one server 20 ms slower; one server at
 * 100% CPU; a rolling restart through the drain path), and, where a {@link NetworkLab} can be made
 * (root), three network faults of one server on a lab host (black hole, partition from its clients,
 * packet loss) with Switchboard at its defaults and a tuned HAProxy. Prints the tables and how they
 * compare with the targets of the issue. See {@link E2eOptions#USAGE} for the flags.
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.switchboard.lb.e2e.EndToEnd --quick
 * </pre>
 */
public final class EndToEnd {
  static final String NO_HAPROXY =
      "HAProxy not found (install Debian's haproxy): skipping the HAProxy rows";

  /** Printed, followed by the reason, when the network fault scenarios cannot run here. */
  static final String NO_LAB = "network fault scenarios skipped: ";

  private EndToEnd() {}

  public static void main(String[] args) {
    E2eOptions options;
    try {
      options = E2eOptions.parse(args);
    } catch (IllegalArgumentException e) {
      if (e.getMessage().equals("help")) {
        System.out.println(E2eOptions.USAGE);
        System.exit(0);
      }
      System.err.println("error: " + e.getMessage());
      System.err.println(E2eOptions.USAGE);
      System.exit(2);
      return;
    }
    quietLogging();
    try {
      run(options, System.out, String.join(" ", args));
    } catch (Exception e) {
      System.out.flush();
      System.err.println("end-to-end run failed: " + e);
      e.printStackTrace();
      ChildProcesses.killAll();
      System.exit(1);
    }
    System.exit(0);
  }

  /**
   * Warnings only (unless set with -D), so the table stays readable; Switchboard's own warnings (an
   * endpoint ejected, failing its health checks) are what the kill scenario provokes, so errors
   * only from it.
   */
  static void quietLogging() {
    Map<String, String> defaults =
        Map.of(
            "org.slf4j.simpleLogger.defaultLogLevel", "warn",
            "org.slf4j.simpleLogger.log.dev.switchboard.lb", "error",
            "org.slf4j.simpleLogger.log.org.apache.zookeeper", "error",
            "org.slf4j.simpleLogger.log.org.apache.curator", "error",
            "zookeeper.admin.enableServer", "false");
    defaults.forEach(
        (k, v) -> {
          if (System.getProperty(k) == null) {
            System.setProperty(k, v);
          }
        });
  }

  /**
   * Runs every cell {@code options} asks for, printing progress, the table and the ratio lines to
   * {@code out}; writes the markdown file if asked. Every process it starts has ended when it
   * returns.
   */
  static Report run(E2eOptions options, PrintStream out, String commandLine) throws Exception {
    ChildProcesses.killAllAtExit();
    long started = System.nanoTime();
    Optional<Path> haproxy = HaProxy.find();
    if (haproxy.isEmpty()) {
      out.println(NO_HAPROXY);
    }
    out.printf(
        Locale.ROOT,
        "End-to-end: %d servers, %d callers, %d-byte payload; per cell %s warm-up + %s measured,"
            + " %d round(s)%n",
        options.servers(),
        options.callers(),
        options.payload(),
        human(options.warmUp()),
        human(options.roundDuration()),
        options.rounds());
    List<Scenario> scenarios = new ArrayList<>(options.scenarios());
    String labMissing = "";
    if (scenarios.stream().anyMatch(Scenario::isNetworkFault)) {
      String missing = NetworkLab.missingPrerequisite();
      if (missing != null) {
        labMissing = missing;
        out.println(NO_LAB + missing);
        scenarios.removeIf(Scenario::isNetworkFault);
      }
    }
    List<Row> rows = new ArrayList<>();
    boolean lab = scenarios.stream().anyMatch(Scenario::isNetworkFault);
    try (NetworkLab network = lab ? NetworkLab.open() : null) {
      // ZooKeeper listens where the lab host's servers reach it: this end of the host's link.
      LabHost victimHost = network == null ? null : network.host("e2e-victim");
      String zookeeperHost = victimHost == null ? "127.0.0.1" : victimHost.gatewayAddress();
      runCells(options, scenarios, zookeeperHost, victimHost, haproxy, out, rows);
    }
    Report report = new Report(rows, haproxy.isPresent(), labMissing);
    if (rows.stream().anyMatch(r -> !r.scenario().isNetworkFault())) {
      out.println();
      out.print(report.table());
    }
    if (lab) {
      out.println();
      out.print(report.faultTable());
    }
    out.println();
    report.ratioLines().forEach(out::println);
    double seconds = (System.nanoTime() - started) / 1e9;
    out.printf(Locale.ROOT, "%ntotal %.1f s%n", seconds);
    if (options.markdown().isPresent()) {
      writeMarkdown(options, report, commandLine, options.markdown().get());
      out.println("markdown written to " + options.markdown().get());
    }
    return report;
  }

  private static void runCells(
      E2eOptions options,
      List<Scenario> scenarios,
      String zookeeperHost,
      @Nullable LabHost victimHost,
      Optional<Path> haproxy,
      PrintStream out,
      List<Row> rows)
      throws Exception {
    try (TestingServer zookeeper = startZooKeeper(zookeeperHost)) {
      Cell cell = new Cell(options, zookeeper.getConnectString(), haproxy.orElse(null));
      NetworkFaultCell faultCell =
          victimHost == null
              ? null
              : new NetworkFaultCell(
                  options, zookeeper.getConnectString(), victimHost, haproxy.orElse(null));
      int index = 0;
      if (options.quick()) {
        out.println(
            "  (quick mode: a smoke test; the first Switchboard cell runs with this JVM's JIT"
                + " cold, so use the full mode for numbers)");
      } else {
        // This JVM's JIT compiles the client paths during the first cells; on a small, busy
        // machine that takes longer than a warm-up, and would count against whichever mode runs
        // first. One unrecorded cell per kind of client first.
        out.println(
            "  (JIT warm-up of this JVM: one unrecorded Switchboard cell and one direct cell)");
        cell.run(Scenario.STEADY, Mode.PEAK_EWMA, ++index);
        cell.run(Scenario.STEADY, Mode.DIRECT, ++index);
      }
      for (Scenario scenario : scenarios) {
        Map<Mode, List<Cell.Result>> results = new EnumMap<>(Mode.class);
        for (int round = 1; round <= options.rounds(); round++) {
          for (Mode mode : runnable(scenario, haproxy.isPresent())) {
            index++;
            out.printf(
                Locale.ROOT,
                "  %-24s %-32s %s",
                scenario.label,
                mode.label,
                options.rounds() == 1 ? "" : "round " + round + ": ");
            out.flush();
            Cell.Result r =
                scenario.isNetworkFault()
                    ? faultCell.run(scenario, mode, index)
                    : cell.run(scenario, mode, index);
            results.computeIfAbsent(mode, m -> new ArrayList<>()).add(r);
            out.printf(
                Locale.ROOT,
                "%8.0f calls/s, %d failed; CPU per call: client %.0f µs%s%s%n",
                r.succeeded() * 1e9 / r.elapsedNanos(),
                r.failed(),
                r.clientCpuNanos() / 1e3 / Math.max(1, r.succeeded()),
                scenario == Scenario.KILL
                        || scenario == Scenario.ROLLING_RESTART
                        || scenario.isNetworkFault()
                    ? ""
                    : String.format(
                        Locale.ROOT,
                        ", servers %.0f µs",
                        r.serverCpuNanos() / 1e3 / Math.max(1, r.succeeded())),
                r.firstError().isEmpty() ? "" : " (first: " + r.firstError() + ")");
          }
        }
        for (Mode mode : scenario.modes) {
          if (results.containsKey(mode)) {
            rows.add(Row.of(scenario, mode, results.get(mode)));
          } else if (mode == Mode.DIRECT) {
            rows.add(Row.notApplicable(scenario, mode));
          }
        }
      }
    }
  }

  /** The modes of {@code scenario} that run: HAProxy if installed, direct in steady only. */
  private static List<Mode> runnable(Scenario scenario, boolean haproxy) {
    List<Mode> modes = new ArrayList<>();
    for (Mode mode : scenario.modes) {
      if ((!mode.isHaproxy() || haproxy)
          && ((mode != Mode.DIRECT && mode != Mode.DIRECT_SPREAD) || scenario == Scenario.STEADY)) {
        modes.add(mode);
      }
    }
    return modes;
  }

  private static void writeMarkdown(
      E2eOptions options, Report report, String commandLine, Path file) throws IOException {
    StringBuilder md = new StringBuilder();
    md.append("Command: `java -cp benchmarks/target/benchmarks.jar ")
        .append(EndToEnd.class.getName())
        .append(commandLine.isEmpty() ? "" : " " + commandLine)
        .append("`\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "%s; Java %s; %d CPUs; %d servers, %d callers, %d-byte payload; per cell %s warm-up"
                + " + %s measured, %d round(s), merged%s.%n%n",
            Instant.now().toString().substring(0, 16).replace('T', ' ') + " UTC",
            System.getProperty("java.version"),
            Runtime.getRuntime().availableProcessors(),
            options.servers(),
            options.callers(),
            options.payload(),
            human(options.warmUp()),
            human(options.roundDuration()),
            options.rounds(),
            (report.haproxyFound() ? "" : "; " + NO_HAPROXY)
                + (report.labMissing().isEmpty() ? "" : "; " + NO_LAB + report.labMissing())));
    if (report.rows().stream().anyMatch(r -> !r.scenario().isNetworkFault())) {
      md.append(report.markdownTable()).append('\n');
    }
    if (report.rows().stream().anyMatch(r -> r.scenario().isNetworkFault())) {
      md.append(report.faultMarkdownTable()).append('\n');
    }
    for (String line : report.ratioLines()) {
      md.append("- ").append(line).append('\n');
    }
    Files.writeString(file, md, StandardCharsets.UTF_8);
  }

  /**
   * A standalone ZooKeeper in this JVM on a free port of {@code host}, data in a temp directory.
   */
  private static TestingServer startZooKeeper(String host) throws Exception {
    InstanceSpec spec =
        new InstanceSpec(
            null,
            -1,
            -1,
            -1,
            true,
            -1,
            250, // tick: sessions may be 0.5 s to 5 s, so a killed server's session ends in 3 s
            -1,
            Map.of("clientPortAddress", host, "admin.enableServer", "false"),
            host);
    return new TestingServer(spec, true);
  }

  static String human(java.time.Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + " s" : ms + " ms";
  }
}
