package dev.switchboard.lb.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Renders runs as a plain-text table for the terminal or as markdown for pasting. Formatting uses
 * {@link Locale#ROOT}, so the same results give the same bytes everywhere.
 */
final class ResultTable {
  private static final String[] HEADER = {
    "scenario",
    "policy",
    "load",
    "p50 ms",
    "p99 ms",
    "p99.9 ms",
    "max/min",
    "CV",
    "slow",
    "flapper",
    "new 1st s",
    "timed out"
  };

  private ResultTable() {}

  /** The description, the table and the notes, as plain text. */
  static String text(SimConfig config, List<RunResult> results) {
    List<String[]> rows = rows(config, results);
    int[] width = new int[HEADER.length];
    for (String[] row : rows) {
      for (int i = 0; i < row.length; i++) {
        width[i] = Math.max(width[i], row[i].length());
      }
    }
    StringBuilder sb = new StringBuilder();
    for (String line : description(config)) {
      sb.append(line).append('\n');
    }
    sb.append('\n');
    for (int r = 0; r < rows.size(); r++) {
      String[] row = rows.get(r);
      StringBuilder line = new StringBuilder();
      for (int i = 0; i < row.length; i++) {
        String pad = " ".repeat(width[i] - row[i].length());
        line.append(i == 0 ? "" : "  ").append(i < 2 ? row[i] + pad : pad + row[i]);
      }
      sb.append(line.toString().stripTrailing()).append('\n');
      if (r == 0) {
        int total = 0;
        for (int w : width) {
          total += w;
        }
        sb.append("-".repeat(total + 2 * (width.length - 1))).append('\n');
      }
    }
    sb.append('\n');
    for (String line : notes(config, results)) {
      sb.append(line).append('\n');
    }
    return sb.toString();
  }

  /** The same as {@link #text}, as markdown. */
  static String markdown(SimConfig config, List<RunResult> results) {
    StringBuilder sb = new StringBuilder();
    for (String line : description(config)) {
      sb.append(line).append("  \n");
    }
    sb.append('\n');
    List<String[]> rows = rows(config, results);
    for (int r = 0; r < rows.size(); r++) {
      sb.append("| ").append(String.join(" | ", rows.get(r))).append(" |\n");
      if (r == 0) {
        sb.append("|---|---");
        sb.append("|---:".repeat(HEADER.length - 2)).append("|\n");
      }
    }
    sb.append('\n');
    for (String line : notes(config, results)) {
      sb.append("- ").append(line).append('\n');
    }
    return sb.toString();
  }

  private static List<String[]> rows(SimConfig config, List<RunResult> results) {
    boolean timeouts = config.timeoutMillis() > 0;
    List<String[]> rows = new ArrayList<>();
    rows.add(HEADER);
    for (RunResult r : results) {
      rows.add(
          new String[] {
            r.scenario().label(),
            r.policy(),
            format("%.0f%%", r.utilisation() * 100),
            millis(r.p50Nanos()),
            millis(r.p99Nanos()),
            millis(r.p999Nanos()),
            Double.isInfinite(r.maxMinRatio()) ? "inf" : format("%.2f", r.maxMinRatio()),
            format("%.3f", r.coefficientOfVariation()),
            percent(r.slowShare()),
            percent(r.flapperShare()),
            percent(r.newShareFirstSecond()),
            timeouts ? percent((double) r.timedOut() / r.issued()) : "-"
          });
    }
    return rows;
  }

  private static List<String> description(SimConfig c) {
    double capacity = c.servers() * c.workers() * 1000 / c.serviceMeanMillis();
    double rate = c.utilisation() * capacity;
    double seconds = c.requests() / rate;
    StringBuilder loads = new StringBuilder();
    for (double u : c.utilisations()) {
      loads.append(loads.length() == 0 ? "" : ", ").append(format("%.0f%%", u * 100));
    }
    return List.of(
        format(
            "Switchboard simulator, seed %d: %d clients x %d servers (%d workers each), %s"
                + " service time with mean %s ms;",
            c.seed(),
            c.clients(),
            c.servers(),
            c.workers(),
            c.serviceTime().label(),
            number(c.serviceMeanMillis())),
        format(
            "open-loop Poisson arrivals at %s of nominal capacity (%s: %s calls/s), %d calls per"
                + " run (~%.1f s of virtual time at %s).",
            loads,
            number(c.utilisation() * 100) + "%",
            number(rate),
            c.requests(),
            seconds,
            number(c.utilisation() * 100) + "%"),
        format(
            "slow: server 0 is %sx slower. flapping: server %d leaves the registry and rejoins,"
                + " alternately, every %s s.",
            number(c.slowFactor()), c.servers() - 1, number(c.flapPeriodSeconds())),
        format(
            "scale-out: %d more servers register at %.1f s. Registry updates reach each client"
                + " within %s ms. %s",
            c.servers(),
            seconds / 2,
            number(c.registryDelayMillis()),
            c.timeoutMillis() > 0
                ? "Clients time out calls after " + number(c.timeoutMillis()) + " ms."
                : "No client timeouts."),
        format(
            "antagonists: every %s s each server has a 1-in-3 chance of a neighbour slowing it"
                + " 1.5-4x; load counts the %.0f%% of nominal capacity they leave. prequal: probes"
                + " take %s ms there and back.",
            number(c.antagonistPeriodSeconds()),
            Scenario.ANTAGONISTS.capacityFactor() * 100,
            number(c.probeDelayMillis())));
  }

  private static List<String> notes(SimConfig config, List<RunResult> results) {
    List<String> notes = new ArrayList<>();
    notes.add(
        "Latency: virtual ms from the pick to the reply (queueing + service; no network time)"
            + (config.timeoutMillis() > 0
                ? ", or to the timeout. timed out: calls the client gave up on (the server still"
                    + " served them)."
                : ". Without client timeouts a server that cannot keep up queues without bound,"
                    + " so its p99 grows with --requests; --timeout-ms caps it."));
    notes.add(
        "max/min, CV: calls per server (busiest/idlest, stddev/mean) over all servers (steady),"
            + " all but the slow one (slow), all but the flapping one (flapping), all of them from"
            + " 1 s after the scale-out on (scale-out).");
    notes.add(
        "slow, flapper: that server's share of all calls. new 1st s: the new servers' share of"
            + " the calls picked in the first second after the scale-out (an even spread: 50%).");
    StringBuilder late = new StringBuilder();
    for (RunResult r : results) {
      if (r.scenario() == Scenario.FLAPPING) {
        late.append(late.length() == 0 ? "" : ", ")
            .append(r.policy())
            .append(' ')
            .append(r.finishedAfterLeaving());
      }
    }
    StringBuilder probing = new StringBuilder();
    for (RunResult r : results) {
      if (r.probes() > 0 && probing.indexOf(r.scenario().label() + " ") < 0) {
        probing
            .append(probing.length() == 0 ? "" : ", ")
            .append(r.scenario().label())
            .append(' ')
            .append(format("%.2f", (double) r.probes() / r.issued()));
      }
    }
    if (probing.length() > 0) {
      notes.add("prequal: probes sent per call: " + probing + ".");
    }
    if (late.length() > 0) {
      notes.add(
          "flapping: calls that finished on an endpoint after their client had dropped it: "
              + late
              + ".");
    }
    return notes;
  }

  private static String millis(long nanos) {
    return format("%.2f", nanos / 1e6);
  }

  private static String percent(double share) {
    return Double.isNaN(share) ? "-" : format("%.1f%%", share * 100);
  }

  /** A number without trailing zeros: 8, 0.5, 2800. */
  private static String number(double d) {
    return d == Math.rint(d) && Math.abs(d) < 1e15
        ? Long.toString((long) d)
        : format("%s", java.math.BigDecimal.valueOf(d).stripTrailingZeros().toPlainString());
  }

  private static String format(String pattern, Object... args) {
    return String.format(Locale.ROOT, pattern, args);
  }
}
