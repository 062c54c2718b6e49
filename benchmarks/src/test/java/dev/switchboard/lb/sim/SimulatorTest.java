package dev.switchboard.lb.sim;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class SimulatorTest {

  private static SimConfig config(String... args) {
    return SimConfig.parse(args);
  }

  private static RunResult only(SimConfig config, Scenario scenario, String policy) {
    return new Simulation(config, scenario, policy).run();
  }

  @Test
  void run_sameSeed_printsIdenticalBytes() {
    SimConfig config = config("--seed", "7", "--requests", "10000");

    List<RunResult> first = Simulator.run(config);
    List<RunResult> second = Simulator.run(config);

    assertThat(second).isEqualTo(first);
    assertThat(ResultTable.text(config, second)).isEqualTo(ResultTable.text(config, first));
    assertThat(ResultTable.markdown(config, second)).isEqualTo(ResultTable.markdown(config, first));
    assertThat(ResultTable.text(config, first)).containsPattern("scale-out +consistent_hash");
  }

  @Test
  void run_otherSeed_printsOtherNumbers() {
    SimConfig one = config("--seed", "1", "--requests", "20000", "--scenario", "steady");
    SimConfig two = config("--seed", "2", "--requests", "20000", "--scenario", "steady");

    assertThat(ResultTable.text(two, Simulator.run(two)))
        .isNotEqualTo(ResultTable.text(one, Simulator.run(one)));
  }

  @Test
  void slowServer_leastConnectionsAndPeakEwma_sendItLessThanRoundRobin_andCutP99() {
    SimConfig config = config("--requests", "60000", "--scenario", "slow");

    RunResult roundRobin = only(config, Scenario.SLOW, "round_robin");
    RunResult leastConnections = only(config, Scenario.SLOW, "least_connections");
    RunResult peakEwma = only(config, Scenario.SLOW, "peak_ewma");

    // Round robin sends the slow server its even tenth whatever it costs.
    assertThat(roundRobin.slowShare()).isBetween(0.095, 0.105);
    for (RunResult aware : List.of(leastConnections, peakEwma)) {
      assertThat(aware.slowShare()).as(aware.policy()).isLessThan(roundRobin.slowShare() / 2);
      assertThat(aware.p99Nanos()).as(aware.policy()).isLessThan(roundRobin.p99Nanos() / 2);
    }
  }

  @Test
  void antagonists_prequalCutsTheTail_whereClientSideSignalsCannotSeeTheNeighbours() {
    // Many clients, each seeing only its own in-flight calls: least connections is nearly blind.
    SimConfig config =
        config(
            "--requests",
            "60000",
            "--clients",
            "50",
            "--servers",
            "20",
            "--scenario",
            "antagonists",
            "--utilisation",
            "0.7",
            "--timeout-ms",
            "1000");

    RunResult leastConnections = only(config, Scenario.ANTAGONISTS, "least_connections");
    RunResult prequal = only(config, Scenario.ANTAGONISTS, "prequal");

    assertThat(prequal.p99Nanos()).isLessThan(leastConnections.p99Nanos() / 2);
    assertThat(prequal.timedOut()).isZero();
    assertThat((double) prequal.probes() / prequal.issued()).isEqualTo(2.0);
    assertThat(leastConnections.probes()).isZero();
  }

  @Test
  void steadyAtFullLoad_prequalKeepsP99BelowLeastConnections() {
    SimConfig config =
        config(
            "--requests",
            "60000",
            "--clients",
            "50",
            "--servers",
            "20",
            "--scenario",
            "steady",
            "--utilisation",
            "1.0",
            "--timeout-ms",
            "1000");

    RunResult leastConnections = only(config, Scenario.STEADY, "least_connections");
    RunResult prequal = only(config, Scenario.STEADY, "prequal");

    assertThat(prequal.p99Nanos()).isLessThan(leastConnections.p99Nanos());
  }

  @Test
  void everyScenarioAndPolicy_everyCallCompletesExactlyOnce() {
    SimConfig config = config("--requests", "20001", "--clients", "3");

    for (RunResult r : Simulator.run(config)) {
      String run = r.scenario().label() + "/" + r.policy();
      assertThat(r.issued()).as(run).isEqualTo(20_001);
      assertThat(r.completed()).as(run).isEqualTo(20_001);
      assertThat(r.timedOut()).as(run).isZero();
      assertThat(r.servedByServers()).as(run).isEqualTo(20_001);
      assertThat(r.leftInFlight()).as(run).isZero();
      assertThat(r.p50Nanos()).as(run).isPositive().isLessThanOrEqualTo(r.p99Nanos());
      assertThat(r.p99Nanos()).as(run).isLessThanOrEqualTo(r.p999Nanos());
    }
  }

  @Test
  void timeouts_completeTheCallOnce_andTheServerStillServesIt() {
    SimConfig config =
        config("--requests", "30000", "--scenario", "slow,flapping", "--timeout-ms", "200");

    for (RunResult r : Simulator.run(config)) {
      String run = r.scenario().label() + "/" + r.policy();
      assertThat(r.completed()).as(run).isEqualTo(30_000);
      assertThat(r.servedByServers()).as(run).isEqualTo(30_000);
      assertThat(r.leftInFlight()).as(run).isZero();
      // The histogram keeps three significant digits.
      assertThat(r.maxLatencyNanos()).as(run).isLessThanOrEqualTo(200_200_000L);
      if (r.scenario() == Scenario.SLOW && r.policy().equals("round_robin")) {
        // The slow server's queue grows all run: nearly all of its tenth of the calls time out.
        assertThat((double) r.timedOut() / r.issued()).as(run).isBetween(0.05, 0.11);
      }
    }
  }

  @Test
  void flapping_callsInFlightFinishOnTheEndpointThatLeft_andRejoinsMakeNewEndpoints() {
    SimConfig config = config("--requests", "40000", "--scenario", "flapping");

    RunResult r = only(config, Scenario.FLAPPING, "least_connections");

    // ~14 s of virtual time, a flap every 2 s: the flapper is away about half of the time.
    assertThat(r.flapperShare()).isBetween(0.03, 0.07);
    assertThat(r.finishedAfterLeaving()).isPositive();
    assertThat(r.endpointsCreated()).isGreaterThan(config.clients() * config.servers());
    assertThat(r.leftInFlight()).isZero();
  }

  @Test
  void scaleOut_newServersTakeLoadWithinTheFirstSecond() {
    SimConfig config = config("--requests", "40000", "--scenario", "scale-out");

    for (String policy : config.policies()) {
      RunResult r = only(config, Scenario.SCALE_OUT, policy);
      // Even spread is 50%, less the first registry delay (up to 100 ms of the second).
      assertThat(r.newShareFirstSecond()).as(policy).isBetween(0.40, 0.80);
    }
  }

  @Test
  void markdown_hasOneRowPerRunUnderAHeader() {
    SimConfig config = config("--requests", "5000", "--scenario", "steady,slow");

    String md = ResultTable.markdown(config, Simulator.run(config));

    assertThat(md).contains("| scenario | policy | load | p50 ms |").contains("|---|---|---:|");
    assertThat(md.lines().filter(l -> l.startsWith("| steady ") || l.startsWith("| slow ")))
        .hasSize(12);
  }
}
