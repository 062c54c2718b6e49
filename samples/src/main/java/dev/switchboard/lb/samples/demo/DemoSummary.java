package dev.switchboard.lb.samples.demo;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * What a demo run measured.
 *
 * @param calls echo calls the callers finished
 * @param failedCalls calls that failed after the client's retries (the demo's promise: 0)
 * @param endpointFailures failed attempts on some server, retried on another
 * @param traffic how long traffic ran
 * @param killed the server killed with SIGKILL
 * @param killToOutOfRotation from the kill until the client stopped picking it (breaker or
 *     ejection), if that happened
 * @param outOfRotationReason why it went out of rotation, for example {@code "ejected"}
 * @param killToLastCall from the kill until the last call (reply or failed attempt) ended on it
 * @param callsToDeadServer calls that ended on the killed server after the kill signal was sent
 * @param failuresOnDeadServer attempts on the killed server that failed (all retried elsewhere)
 * @param killToRemoval from the kill until it left the cluster (its ZooKeeper session expired)
 * @param started the server started during the run
 * @param slowStart the slow start window
 * @param startedInSlowStart whether the new server was seen ramping up in slow start
 * @param startedCalls calls the new server took
 * @param drained the server drained gracefully
 * @param drainTime from the drain request until the drained process exited
 * @param drainedExitCode the drained process's exit code (0 expected), -1 if it had not exited
 * @param failureSamples the first failures, if any
 */
record DemoSummary(
    long calls,
    long failedCalls,
    long endpointFailures,
    Duration traffic,
    String killed,
    Optional<Duration> killToOutOfRotation,
    String outOfRotationReason,
    Duration killToLastCall,
    long callsToDeadServer,
    long failuresOnDeadServer,
    Optional<Duration> killToRemoval,
    String started,
    Duration slowStart,
    boolean startedInSlowStart,
    long startedCalls,
    String drained,
    Optional<Duration> drainTime,
    int drainedExitCode,
    List<String> failureSamples) {

  DemoSummary {
    failureSamples = List.copyOf(failureSamples);
  }

  /** The last line the demo prints. */
  String line() {
    return String.format(
        Locale.ROOT,
        "SUMMARY: %,d calls in %s, %,d failed; after kill -9 %s no more calls went to it from %s"
            + " after the kill%s; %s drained in %s",
        calls,
        DemoOptions.human(traffic),
        failedCalls,
        killed,
        millis(killToLastCall),
        killToOutOfRotation.map(d -> " (out of rotation after " + millis(d) + ")").orElse(""),
        drained,
        drainTime.map(DemoSummary::millis).orElse("-"));
  }

  /** The lines above the summary line, one per step of the script. */
  String details() {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "  calls       %,d in %s (%,d/s), %,d failed; %,d failed attempts were retried on"
                + " another server%n",
            calls,
            DemoOptions.human(traffic),
            Math.round(calls / Math.max(1e-3, traffic.toMillis() / 1e3)),
            failedCalls,
            endpointFailures));
    b.append(
        String.format(
            Locale.ROOT,
            "  kill -9 %s  no more calls to it %s after the kill (%,d ended on it after the signal,"
                + " %,d of them failed and were retried); %s; gone from ZooKeeper after %s%n",
            killed,
            millis(killToLastCall),
            callsToDeadServer,
            failuresOnDeadServer,
            killToOutOfRotation
                .map(d -> "out of rotation after " + millis(d) + " (" + outOfRotationReason + ")")
                .orElse(
                    "never out of rotation (too few failures for its breaker or ejection):"
                        + " the policy stopped picking it"),
            killToRemoval.map(DemoSummary::millis).orElse("-")));
    b.append(
        String.format(
            Locale.ROOT,
            "  start %s    %s (weight 10%% -> 100%% over %s), took %,d calls%n",
            started,
            startedInSlowStart ? "joined in slow start" : "joined, slow start NOT seen",
            DemoOptions.human(slowStart),
            startedCalls));
    b.append(
        String.format(
            Locale.ROOT,
            "  drain %s    exited %s after the request (draining, deregistered, in-flight calls"
                + " finished), exit code %d%n",
            drained,
            drainTime.map(DemoSummary::millis).orElse("-"),
            drainedExitCode));
    for (String f : failureSamples) {
      b.append("  failure: ").append(f).append('\n');
    }
    return b.toString();
  }

  static String millis(Duration d) {
    long ms = d.toMillis();
    return ms < 10_000 ? ms + " ms" : String.format(Locale.ROOT, "%.1f s", ms / 1e3);
  }
}
