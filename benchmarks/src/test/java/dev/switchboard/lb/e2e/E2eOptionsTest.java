package dev.switchboard.lb.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class E2eOptionsTest {

  @Test
  void parse_defaults_fullModeWithEveryScenario() {
    E2eOptions o = E2eOptions.parse();
    assertThat(o.quick()).isFalse();
    assertThat(o.servers()).isEqualTo(3);
    assertThat(o.callers()).isEqualTo(16);
    assertThat(o.duration()).isEqualTo(Duration.ofSeconds(10));
    assertThat(o.scenarios()).containsExactly(Scenario.values());
    assertThat(o.markdown()).isEmpty();
  }

  @Test
  void parse_quick_shortCellsSteadyAndKill() {
    E2eOptions o = E2eOptions.parse("--quick");
    assertThat(o.duration()).isEqualTo(Duration.ofSeconds(2));
    assertThat(o.warmUp()).isEqualTo(Duration.ofSeconds(1));
    assertThat(o.scenarios()).containsExactly(Scenario.STEADY, Scenario.KILL);
  }

  @Test
  void parse_everyFlag_taken() {
    E2eOptions o =
        E2eOptions.parse(
            "--servers",
            "4",
            "--callers",
            "8",
            "--duration",
            "1500ms",
            "--warmup",
            "2s",
            "--payload",
            "1024",
            "--scenarios",
            "cpu,slow",
            "--markdown",
            "out.md");
    assertThat(o.servers()).isEqualTo(4);
    assertThat(o.callers()).isEqualTo(8);
    assertThat(o.duration()).isEqualTo(Duration.ofMillis(1500));
    assertThat(o.warmUp()).isEqualTo(Duration.ofSeconds(2));
    assertThat(o.payload()).isEqualTo(1024);
    assertThat(o.scenarios()).isEqualTo(List.of(Scenario.CPU_BURN, Scenario.SLOW));
    assertThat(o.markdown()).contains(Path.of("out.md"));
  }

  @Test
  void parse_badFlags_namedInTheMessage() {
    assertThatThrownBy(() -> E2eOptions.parse("--frobnicate"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("--frobnicate");
    assertThatThrownBy(() -> E2eOptions.parse("--callers", "many"))
        .hasMessageContaining("--callers")
        .hasMessageContaining("many");
    assertThatThrownBy(() -> E2eOptions.parse("--servers", "1")).hasMessageContaining("--servers");
    assertThatThrownBy(() -> E2eOptions.parse("--duration", "soon"))
        .hasMessageContaining("--duration");
    assertThatThrownBy(() -> E2eOptions.parse("--duration")).hasMessageContaining("needs a value");
    assertThatThrownBy(() -> E2eOptions.parse("--scenarios", "steady,flood"))
        .hasMessageContaining("flood");
  }

  @Test
  void haproxyConfig_tcpLeastconnWithChecks_onLoopbackOnly() {
    String cfg =
        HaProxy.config(
            4000, List.of("127.0.0.1:4001", "127.0.0.1:4002"), Path.of("/tmp/x.sock"), 2048, false);
    assertThat(cfg)
        .contains("mode tcp")
        .contains("balance leastconn")
        .contains("bind 127.0.0.1:4000")
        .contains("server s1 127.0.0.1:4001 check inter 2s")
        .contains("server s2 127.0.0.1:4002 check inter 2s")
        .contains("maxconn 2048");
  }

  @Test
  void haproxyTunedConfig_everyServerGetsTheFaultSettings_andHaproxyAcceptsIt() throws Exception {
    Path dir = Files.createTempDirectory("e2e-haproxy-config");
    String cfg =
        HaProxy.config(
            4000, List.of("127.0.0.1:4001", "10.213.0.2:4002"), dir.resolve("a.sock"), 64, true);
    assertThat(cfg)
        .contains("option redispatch 1")
        .contains("timeout connect 250ms")
        .contains("server s1 127.0.0.1:4001 " + HaProxy.TUNED_SERVER)
        .contains("server s2 10.213.0.2:4002 " + HaProxy.TUNED_SERVER);
    Optional<Path> haproxy = HaProxy.find();
    if (haproxy.isPresent()) { // where installed, HAProxy's own check of the file must pass
      Path file = dir.resolve("haproxy.cfg");
      Files.writeString(file, cfg);
      Process check =
          new ProcessBuilder(haproxy.get().toString(), "-c", "-f", file.toString())
              .redirectErrorStream(true)
              .start();
      String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertThat(check.waitFor()).as(output).isZero();
    }
  }
}
