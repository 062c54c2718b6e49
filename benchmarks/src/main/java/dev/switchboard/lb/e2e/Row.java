package dev.switchboard.lb.e2e;

import java.util.OptionalDouble;

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
 * @param failed calls that threw or returned a wrong reply
 * @param deadServerMillis kill scenario: from the kill to the last attempt routed to the dead
 *     server
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
    long failed,
    OptionalDouble deadServerMillis,
    OptionalDouble victimSharePercent,
    String note) {

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
        OptionalDouble.empty(),
        OptionalDouble.empty(),
        "");
  }
}
