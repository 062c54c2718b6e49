package dev.switchboard.lb.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.junit.jupiter.api.Test;

class SimConfigTest {

  @Test
  void parse_noFlags_givesTheDocumentedDefaults() {
    SimConfig c = SimConfig.parse(new String[0]);

    assertThat(c.seed()).isEqualTo(1);
    assertThat(c.clients()).isEqualTo(8);
    assertThat(c.servers()).isEqualTo(10);
    assertThat(c.requests()).isEqualTo(200_000);
    assertThat(c.scenarios()).containsExactly(Scenario.values());
    assertThat(c.policies()).hasSize(6);
    assertThat(c.utilisation()).isEqualTo(0.7);
    assertThat(c.utilisations()).containsExactly(0.7);
    assertThat(c.probeDelayMillis()).isEqualTo(0.5);
    assertThat(c.antagonistPeriodSeconds()).isEqualTo(1);
    assertThat(c.timeoutMillis()).isZero();
    assertThat(c.markdown()).isNull();
  }

  @Test
  void parse_acceptsSpaceAndEqualsForms_andLists() {
    SimConfig c =
        SimConfig.parse(
            new String[] {
              "--seed=42",
              "--scenario",
              "slow,scale-out",
              "--policies=peak_ewma,round_robin",
              "--service",
              "lognormal",
              "--markdown",
              "out.md",
              "--utilisation",
              "0.5,1.1",
              "--timeout-ms",
              "500"
            });

    assertThat(c.utilisations()).containsExactly(0.5, 1.1);
    assertThat(c.utilisation()).isEqualTo(0.5);
    assertThat(c.withUtilisation(1.1).utilisation()).isEqualTo(1.1);
    assertThat(c.seed()).isEqualTo(42);
    assertThat(c.scenarios()).containsExactly(Scenario.SLOW, Scenario.SCALE_OUT);
    assertThat(c.policies()).containsExactly("peak_ewma", "round_robin");
    assertThat(c.serviceTime()).isEqualTo(ServiceTime.LOGNORMAL);
    assertThat(c.markdown()).hasToString("out.md");
  }

  @Test
  void parse_badFlags_nameTheProblem() {
    List<String[]> bad =
        List.of(
            new String[] {"--bogus", "1"},
            new String[] {"--clients"},
            new String[] {"--clients", "many"},
            new String[] {"--clients", "0"},
            new String[] {"--servers", "1"},
            new String[] {"--utilisation", "2"},
            new String[] {"--utilisation", "0.5,1.1"},
            new String[] {"--probe-delay-ms", "-1"},
            new String[] {"--scenario", "chaos"},
            new String[] {"--policies", "rr"},
            new String[] {"--service", "uniform"},
            new String[] {"--timeout-ms", "-1"},
            new String[] {"stray"});
    List<String> messages =
        List.of(
            "unknown flag --bogus",
            "--clients needs a value",
            "--clients needs an integer but was 'many'",
            "--clients must be 1..10000 but was 0",
            "--servers must be 2..10000 but was 1",
            "--utilisation must be in (0, 2) but was 2.0",
            "--utilisation 1.1 needs --timeout-ms",
            "--probe-delay-ms must be in [0, 60000] but was -1.0",
            "unknown scenario 'chaos'",
            "unknown policy 'rr'",
            "unknown service-time distribution 'uniform'",
            "--timeout-ms must be in [0, 3600000] but was -1.0",
            "unexpected argument 'stray'");
    for (int i = 0; i < bad.size(); i++) {
      String[] args = bad.get(i);
      assertThatThrownBy(() -> SimConfig.parse(args))
          .as(String.join(" ", args))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(messages.get(i));
    }
  }
}
