package dev.switchboard.lb.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The CI smoke test: the quick mode, run in this JVM with real server processes (and HAProxy when
 * installed). It checks the shape of the report, never its numbers: those depend on the machine.
 */
class EndToEndTest {

  @BeforeAll
  static void quietLogs() {
    // Surefire asks for info-level logs; the harness's own choice (warnings) keeps this readable.
    System.setProperty("org.slf4j.simpleLogger.defaultLogLevel", "warn");
    EndToEnd.quietLogging();
  }

  @Test
  @Timeout(value = 150, unit = TimeUnit.SECONDS)
  void quickMode_everyRowPresent_switchboardRowsMadeCalls_noProcessLeftBehind() throws Exception {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream out = new PrintStream(captured, true, StandardCharsets.UTF_8);
    boolean haproxyInstalled = HaProxy.find().isPresent();

    Report report = EndToEnd.run(E2eOptions.parse("--quick"), out, "--quick");

    String text = captured.toString(StandardCharsets.UTF_8);
    System.out.print(text);
    for (Scenario scenario : List.of(Scenario.STEADY, Scenario.KILL)) {
      Row sb = report.row(scenario, Mode.PEAK_EWMA).orElseThrow();
      assertThat(sb.calls()).as("%s: Switchboard calls", scenario.label).isPositive();
      assertThat(sb.p50Micros()).isPositive();
      assertThat(report.row(scenario, Mode.HAPROXY).isPresent())
          .as("%s: an HAProxy row exactly when HAProxy is installed", scenario.label)
          .isEqualTo(haproxyInstalled);
    }
    assertThat(report.row(Scenario.STEADY, Mode.DIRECT).orElseThrow().calls()).isPositive();
    assertThat(report.rows())
        .as("the direct baseline is n/a outside the steady scenario")
        .anyMatch(r -> r.scenario() == Scenario.KILL && r.mode() == Mode.DIRECT && !r.measured());
    assertThat(report.row(Scenario.KILL, Mode.PEAK_EWMA).orElseThrow().deadServerMillis())
        .isPresent();
    assertThat(text)
        .contains("p99.9 µs")
        .contains("dead-server time ms")
        .contains("steady: Switchboard calls/s")
        .contains("kill -9 one server: Switchboard failed idempotent calls");
    if (haproxyInstalled) {
      assertThat(text).contains("steady: Switchboard/HAProxy calls/s");
    } else {
      assertThat(text).contains(EndToEnd.NO_HAPROXY);
    }
    // Every server JVM and HAProxy has ended: no descendant of this JVM is left.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> ProcessHandle.current().descendants().noneMatch(ProcessHandle::isAlive));
  }
}
