package dev.switchboard.lb.sim;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;

/**
 * A deterministic discrete-event simulation of K clients × N servers in virtual time, driving the
 * production pickers of lb-api, under five scenarios (steady, one slow server, a flapping registry,
 * a scale-out, antagonists), printing latency percentiles and load spread per scenario and policy.
 * The same flags and seed print the same bytes. Run it as described in benchmarks/README.md:
 *
 * <pre>
 * java -cp benchmarks/target/benchmarks.jar dev.switchboard.lb.sim.Simulator [--seed 1] ...
 * </pre>
 *
 * <p>Not thread-safe; everything runs on the calling thread.
 */
public final class Simulator {
  private Simulator() {}

  /** Parses the flags, runs, prints the table; exits with 2 on bad flags. */
  public static void main(String[] args) throws IOException {
    SimConfig config;
    try {
      config = SimConfig.parse(args);
    } catch (SimConfig.HelpRequested e) {
      System.out.print(SimConfig.USAGE);
      return;
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.err.print(SimConfig.USAGE);
      System.exit(2);
      return;
    }
    long start = System.nanoTime(); // wall time, for the operator only (stderr)
    List<RunResult> results = run(config);
    PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
    out.print(ResultTable.text(config, results));
    if (config.markdown() != null) {
      Files.writeString(config.markdown(), ResultTable.markdown(config, results));
    }
    System.err.printf(
        "(%d runs in %.1f s of wall time)%n", results.size(), (System.nanoTime() - start) / 1e9);
  }

  /**
   * Runs every configured scenario at every utilisation under every configured policy, in that
   * order.
   */
  static List<RunResult> run(SimConfig config) {
    List<RunResult> results = new ArrayList<>();
    for (Scenario scenario : config.scenarios()) {
      for (double u : config.utilisations()) {
        for (String policy : config.policies()) {
          results.add(new Simulation(config.withUtilisation(u), scenario, policy).run());
        }
      }
    }
    return results;
  }
}
