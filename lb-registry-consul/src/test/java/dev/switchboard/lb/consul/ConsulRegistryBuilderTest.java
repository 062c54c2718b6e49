package dev.switchboard.lb.consul;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import org.junit.jupiter.api.Test;

/** Builder validation; needs no agent. */
class ConsulRegistryBuilderTest {

  @Test
  void agentUri_badSchemeOrShape_namesTheValue() {
    assertThatThrownBy(() -> ConsulRegistry.builder().agentUri(URI.create("tcp://127.0.0.1:8500")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was tcp://127.0.0.1:8500");
    assertThatThrownBy(() -> ConsulRegistry.builder().agentUri(URI.create("127.0.0.1:8500")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("127.0.0.1:8500");
    assertThatThrownBy(
            () -> ConsulRegistry.builder().agentUri(URI.create("http://127.0.0.1:8500/?x=1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no query or fragment but was http://127.0.0.1:8500/?x=1");
  }

  @Test
  void agentUri_withCredentials_isRejectedWithoutEchoingThem() {
    assertThatThrownBy(
            () -> ConsulRegistry.builder().agentUri(URI.create("http://me:hunter2@127.0.0.1:8500")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("use aclToken")
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void aclToken_blankOrControlCharacters_rejectedWithoutEchoingIt() {
    assertThatThrownBy(() -> ConsulRegistry.builder().aclToken(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("aclToken must not be blank but was blank");
    assertThatThrownBy(() -> ConsulRegistry.builder().aclToken("secret-part\r\nX-Evil: 1"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("character 12 of 22")
        .hasMessageNotContaining("secret-part");
  }

  @Test
  void durations_outOfRange_nameFieldAndValue() {
    assertThatThrownBy(() -> ConsulRegistry.builder().ttl(Duration.ofMillis(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("ttl must be between PT0.01S and PT24H but was PT0.005S");
    assertThatThrownBy(() -> ConsulRegistry.builder().blockingWait(Duration.ofMinutes(11)))
        .hasMessage("blockingWait must be between PT0.001S and PT10M but was PT11M");
    assertThatThrownBy(() -> ConsulRegistry.builder().minWatchInterval(Duration.ZERO))
        .hasMessageContaining("minWatchInterval")
        .hasMessageContaining("but was PT0S");
    assertThatThrownBy(() -> ConsulRegistry.builder().requestTimeout(Duration.ofSeconds(-1)))
        .hasMessageContaining("requestTimeout")
        .hasMessageContaining("PT-1S");
    assertThatThrownBy(() -> ConsulRegistry.builder().deregisterCriticalAfter(Duration.ofDays(8)))
        .hasMessageContaining("deregisterCriticalAfter")
        .hasMessageContaining("PT192H");
    assertThatThrownBy(
            () -> ConsulRegistry.builder().backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("backoff max must be at least initial (PT2S) but was PT1S");
  }

  @Test
  void heartbeatFraction_outsideZeroToOne_namesTheValue() {
    for (double bad : new double[] {0, 1, -0.5, 1.5, Double.NaN}) {
      assertThatThrownBy(() -> ConsulRegistry.builder().heartbeatFraction(bad))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("heartbeatFraction must be between 0 and 1 (exclusive) but was " + bad);
    }
  }

  @Test
  void datacenter_badName_namesTheValue() {
    assertThatThrownBy(() -> ConsulRegistry.builder().datacenter("dc 1&x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was 'dc 1&x'");
  }

  @Test
  void sslContextWithHttpUri_isAConflict() throws Exception {
    SSLContext tls = SSLContext.getDefault();

    assertThatThrownBy(() -> ConsulRegistry.builder().sslContext(tls).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("http://127.0.0.1:8500 is not https");
  }

  @Test
  void toString_showsAgentAndDatacenter_neverTheToken() {
    try (ConsulRegistry registry =
        ConsulRegistry.builder()
            .agentUri(URI.create("https://consul.test:8501/"))
            .datacenter("eu-west")
            .aclToken("b1gs3cret-t0ken")
            .build()) {
      assertThat(registry.toString())
          .isEqualTo("ConsulRegistry[https://consul.test:8501, dc=eu-west, ACL token set]")
          .doesNotContain("b1gs3cret");
    }
  }
}
