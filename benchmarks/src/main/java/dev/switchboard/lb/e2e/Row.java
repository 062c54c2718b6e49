package dev.switchboard.lb.e2e;

import java.util.List;
import java.util.OptionalDouble;
import org.HdrHistogram.Histogram;

/**
 * One line of the table: a (scenario, mode) cell's measurement, or a cell that does not apply.
 *
 * @param scenario the scenario
 * @param mode the mode
 * @param measured whether the cell ran (false: "n/a")
 * @param calls successful calls in the measured window
 * @param callsPerSecond successful calls per second
 * @param p50Micros median latency of successful calls, microseconds
 * @param p99Micros 99th percentile, microseconds
 * @param p999Micros 99.9th percentile, microseconds
 * @param maxMicros the slowest successful call, microseconds
 * @param failed calls that threw or returned a wrong reply
 * @param deadServerMillis kill and network fault scenarios: from the fault to the last attempt
 *     routed to the faulty server (before any heal)
 * @param backAfterHealMillis partition scenario: from the heal to the first attempt routed to the
 *     server again; empty if none came in the window
 * @param victimSharePercent slow and CPU scenarios: the victim server's share of the calls served
 * @param note what went wrong, if anything (the first error seen)
 */
record Row(
    Scenario scenario,
    Mode mode,
    boolean measured,
    long calls,
    double callsPerSecond,
    double p50Micros,
    double p99Micros,
    double p999Micros,
    double maxMicros,
    long failed,
    OptionalDouble deadServerMillis,
    OptionalDouble backAfterHealMillis,
    OptionalDouble victimSharePercent,
    String note) {

  /** The row of a cell run once or more ({@code results}, one per round), merged. */
  static Row of(Scenario scenario, Mode mode, List<Cell.Result> results) {
    Histogram latency = new Histogram(3);
    long succeeded = 0;
    long failed = 0;
    long elapsed = 0;
    long victim = 0;
    long all = 0;
    OptionalDouble dead = OptionalDouble.empty();
    OptionalDouble back = OptionalDouble.empty();
    String note = "";
    for (Cell.Result r : results) {
      latency.add(r.latencyNanos());
      succeeded += r.succeeded();
      failed += r.failed();
      elapsed += r.elapsedNanos();
      victim += r.victimServed();
      all += r.allServed();
      if (r.deadServerMillis().isPresent()) {
        double d = r.deadServerMillis().getAsDouble();
        dead = OptionalDouble.of(Math.max(d, dead.orElse(d))); // the worst round
      }
      if (r.backAfterHealMillis().isPresent()) {
        double b = r.backAfterHealMillis().getAsDouble();
        back = OptionalDouble.of(Math.max(b, back.orElse(b)));
      }
      if (note.isEmpty()) {
        note = r.firstError();
      }
    }
    return new Row(
        scenario,
        mode,
        true,
        succeeded,
        succeeded * 1e9 / Math.max(1, elapsed),
        micros(latency, 50),
        micros(latency, 99),
        micros(latency, 99.9),
        latency.getTotalCount() == 0 ? 0 : latency.getMaxValue() / 1e3,
        failed,
        dead,
        back,
        scenario.reportsShare()
            ? OptionalDouble.of(all == 0 ? 0 : 100.0 * victim / all)
            : OptionalDouble.empty(),
        note);
  }

  private static double micros(Histogram h, double percentile) {
    return h.getTotalCount() == 0 ? 0 : h.getValueAtPercentile(percentile) / 1e3;
  }

  /** A cell that does not apply (the direct baseline outside the steady scenario). */
  static Row notApplicable(Scenario scenario, Mode mode) {
    return new Row(
        scenario,
        mode,
        false,
        0,
        0,
        0,
        0,
        0,
        0,
        0,
        OptionalDouble.empty(),
        OptionalDouble.empty(),
        OptionalDouble.empty(),
        "");
  }
}
