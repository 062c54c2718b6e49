package dev.switchboard.lb.e2e;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalDouble;

/**
 * The harness's output: the table of rows, and one line per target of the issue comparing rows of
 * the same run (ratios, reported, never asserted). Immutable.
 *
 * @param rows every cell, in the order run
 * @param haproxyFound whether the HAProxy rows could run
 * @param labMissing why the network fault scenarios could not run, or empty
 */
record Report(List<Row> rows, boolean haproxyFound, String labMissing) {
  static final String[] HEADER = {
    "scenario",
    "mode",
    "calls/s",
    "p50 µs",
    "p99 µs",
    "p99.9 µs",
    "failed",
    "dead-server time ms",
    "victim share %"
  };

  /** The network fault table's columns: latencies from the fault on, in milliseconds. */
  static final String[] FAULT_HEADER = {
    "scenario",
    "mode",
    "calls/s",
    "failed",
    "p99 ms",
    "p99.9 ms",
    "max ms",
    "last routed to victim ms",
    "back after heal ms",
    "victim share %"
  };

  Report {
    rows = List.copyOf(rows);
  }

  /** The measured row for ({@code scenario}, {@code mode}), if it ran. */
  Optional<Row> row(Scenario scenario, Mode mode) {
    return rows.stream()
        .filter(r -> r.scenario() == scenario && r.mode() == mode && r.measured())
        .findFirst();
  }

  private static String[] cells(Row r) {
    if (!r.measured()) {
      return new String[] {r.scenario().label, r.mode().label, "n/a", "", "", "", "", "", ""};
    }
    return new String[] {
      r.scenario().label,
      r.mode().label,
      format("%.0f", r.callsPerSecond()),
      format("%.0f", r.p50Micros()),
      format("%.0f", r.p99Micros()),
      format("%.0f", r.p999Micros()),
      Long.toString(r.failed()),
      optional("%.0f", r.deadServerMillis()),
      optional("%.2f", r.victimSharePercent())
    };
  }

  private static String[] faultCells(Row r) {
    return new String[] {
      r.scenario().label,
      r.mode().label,
      format("%.0f", r.callsPerSecond()),
      Long.toString(r.failed()),
      format("%.1f", r.p99Micros() / 1e3),
      format("%.1f", r.p999Micros() / 1e3),
      format("%.1f", r.maxMicros() / 1e3),
      optional("%.0f", r.deadServerMillis()),
      r.scenario() == Scenario.PARTITION
          ? (r.backAfterHealMillis().isPresent()
              ? format("%.0f", r.backAfterHealMillis().getAsDouble())
              : "none")
          : "",
      optional("%.2f", r.victimSharePercent())
    };
  }

  private List<String[]> mainLines() {
    return rows.stream().filter(r -> !r.scenario().isNetworkFault()).map(Report::cells).toList();
  }

  private List<String[]> faultLines() {
    return rows.stream()
        .filter(r -> r.scenario().isNetworkFault())
        .map(Report::faultCells)
        .toList();
  }

  /** The table of every scenario but the network faults, columns aligned, for a terminal. */
  String table() {
    return aligned(HEADER, mainLines());
  }

  /** The network fault scenarios' table, columns aligned, for a terminal. */
  String faultTable() {
    return aligned(FAULT_HEADER, faultLines());
  }

  private static String aligned(String[] header, List<String[]> rows) {
    List<String[]> lines = new ArrayList<>();
    lines.add(header);
    lines.addAll(rows);
    int[] width = new int[header.length];
    for (String[] l : lines) {
      for (int i = 0; i < l.length; i++) {
        width[i] = Math.max(width[i], l[i].length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (int n = 0; n < lines.size(); n++) {
      String[] l = lines.get(n);
      for (int i = 0; i < l.length; i++) {
        String pad = " ".repeat(width[i] - l[i].length());
        out.append(i < 2 ? l[i] + pad : pad + l[i]).append(i + 1 < l.length ? " | " : "\n");
      }
      if (n == 0) {
        for (int i = 0; i < width.length; i++) {
          out.append("-".repeat(width[i])).append(i + 1 < width.length ? "-+-" : "\n");
        }
      }
    }
    return out.toString();
  }

  /** {@link #table()} as markdown. */
  String markdownTable() {
    return markdown(HEADER, mainLines());
  }

  /** {@link #faultTable()} as markdown. */
  String faultMarkdownTable() {
    return markdown(FAULT_HEADER, faultLines());
  }

  private static String markdown(String[] header, List<String[]> lines) {
    StringBuilder out = new StringBuilder();
    out.append("| ").append(String.join(" | ", header)).append(" |\n|---|---|");
    out.append("---:|".repeat(header.length - 2)).append('\n');
    for (String[] l : lines) {
      out.append("| ").append(String.join(" | ", l)).append(" |\n");
    }
    return out.toString();
  }

  /** One line per target whose rows ran. */
  List<String> ratioLines() {
    List<String> lines = new ArrayList<>();
    Optional<Row> sb = row(Scenario.STEADY, Mode.PEAK_EWMA);
    Optional<Row> ha = row(Scenario.STEADY, Mode.HAPROXY);
    Optional<Row> direct = row(Scenario.STEADY, Mode.DIRECT);
    if (sb.isPresent() && ha.isPresent()) {
      double calls = sb.get().callsPerSecond() / ha.get().callsPerSecond();
      double p99 = sb.get().p99Micros() / ha.get().p99Micros();
      lines.add(
          format(
              "steady: Switchboard/HAProxy calls/s = %.2f× (target ≥ 2×): %s",
              calls, met(calls >= 2)));
      lines.add(
          format(
              "steady: Switchboard/HAProxy p99 = %.2f× (target ≤ 0.5×): %s", p99, met(p99 <= 0.5)));
    }
    if (sb.isPresent() && direct.isPresent()) {
      double below = 100 * (1 - sb.get().callsPerSecond() / direct.get().callsPerSecond());
      lines.add(
          format(
              "steady: Switchboard calls/s %s the direct baseline by %.1f%% (target ≤ 5%% below): %s",
              below >= 0 ? "below" : "above", Math.abs(below), met(below <= 5)));
    }
    Optional<Row> spread = row(Scenario.STEADY, Mode.DIRECT_SPREAD);
    if (sb.isPresent() && spread.isPresent()) {
      double below = 100 * (1 - sb.get().callsPerSecond() / spread.get().callsPerSecond());
      lines.add(
          format(
              "steady: Switchboard calls/s %s direct connections to the same servers by %.1f%%"
                  + " (the balancer's own cost)",
              below >= 0 ? "below" : "above", Math.abs(below)));
    }
    for (Scenario s : List.of(Scenario.KILL, Scenario.ROLLING_RESTART)) {
      row(s, Mode.PEAK_EWMA)
          .ifPresent(
              r -> {
                String haproxy =
                    row(s, Mode.HAPROXY)
                        .map(h -> format("; HAProxy: %d failed", h.failed()) + dead(h))
                        .orElse("");
                lines.add(
                    format(
                        "%s: Switchboard failed idempotent calls = %d (target 0): %s%s%s",
                        s.label, r.failed(), met(r.failed() == 0), dead(r), haproxy));
              });
    }
    for (Mode m : List.of(Mode.PEAK_EWMA, Mode.PEAK_EWMA_HEDGED)) {
      row(Scenario.SLOW, m)
          .ifPresent(
              r -> {
                double share = r.victimSharePercent().orElse(Double.NaN);
                lines.add(
                    format(
                        "slow: %s slow server's share = %.2f%% (target ≤ 0.5%%): %s",
                        m.label, share, met(share <= 0.5)));
                lines.add(
                    format(
                        "slow: %s p99.9 = %.2f ms (target < %d ms): %s",
                        m.label,
                        r.p999Micros() / 1e3,
                        Scenario.SLOW_MILLIS,
                        met(r.p999Micros() < Scenario.SLOW_MILLIS * 1e3)));
              });
    }
    for (Scenario s : List.of(Scenario.VANISH, Scenario.PARTITION, Scenario.LOSS)) {
      row(s, Mode.SWITCHBOARD_DEFAULTS)
          .ifPresent(
              r -> {
                String haproxy =
                    row(s, Mode.HAPROXY_TUNED)
                        .map(
                            h ->
                                format(
                                    "; tuned HAProxy + retrying client: %d failed, max %.0f ms",
                                    h.failed(), h.maxMicros() / 1e3))
                        .orElse("");
                lines.add(
                    format(
                        "%s: Switchboard (defaults) failed idempotent calls = %d (target 0): %s,"
                            + " max %.0f ms%s",
                        s.label, r.failed(), met(r.failed() == 0), r.maxMicros() / 1e3, haproxy));
              });
    }
    Optional<Row> rr = row(Scenario.CPU_BURN, Mode.ROUND_ROBIN);
    for (Mode m : List.of(Mode.LEAST_CONNECTIONS, Mode.PEAK_EWMA)) {
      Optional<Row> other = row(Scenario.CPU_BURN, m);
      if (rr.isPresent() && other.isPresent()) {
        double ratio = other.get().callsPerSecond() / rr.get().callsPerSecond();
        lines.add(
            format(
                "cpu: Switchboard %s/round_robin calls/s = %.2f× (target ≥ 1.4×): %s",
                m.policy.name(), ratio, met(ratio >= 1.4)));
      }
    }
    return lines;
  }

  private static String dead(Row r) {
    return r.deadServerMillis().isPresent()
        ? format(
            ", dead server's last call %.0f ms after the kill", r.deadServerMillis().getAsDouble())
        : "";
  }

  private static String met(boolean met) {
    return met ? "met" : "NOT met";
  }

  private static String optional(String pattern, OptionalDouble v) {
    return v.isPresent() ? format(pattern, v.getAsDouble()) : "";
  }

  private static String format(String pattern, Object... args) {
    return String.format(Locale.ROOT, pattern, args);
  }
}
