package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.ServiceInstance;
import java.net.ConnectException;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceUriTest {
  private static ServiceInstance instance(Map<String, String> metadata) {
    return ServiceInstance.builder("echo", "127.0.0.7", 8443).metadata(metadata).build();
  }

  @Test
  void parse_keepsRawPathAndQuery() {
    ServiceUri uri = ServiceUri.parse(URI.create("lb://echo/a%20b/c?x=1%262&y=%C3%A9"));

    assertThat(uri.service()).isEqualTo("echo");
    assertThat(uri.rawPathAndQuery()).isEqualTo("/a%20b/c?x=1%262&y=%C3%A9");
  }

  @Test
  void parse_noPath_sendsRoot() {
    assertThat(ServiceUri.parse(URI.create("lb://echo")).rawPathAndQuery()).isEqualTo("/");
    assertThat(ServiceUri.parse(URI.create("lb://echo?q=1")).rawPathAndQuery()).isEqualTo("/?q=1");
  }

  @Test
  void parse_serviceNameThatIsNotAHostName_isAccepted() {
    assertThat(ServiceUri.parse(URI.create("lb://billing_v2/x")).service()).isEqualTo("billing_v2");
  }

  @Test
  void parse_httpForm_isTheSameTarget_httpsRequiresTls() {
    assertThat(ServiceUri.parse(URI.create("http://echo/p?q=1")))
        .isEqualTo(new ServiceUri("echo", "/p?q=1", false));
    assertThat(ServiceUri.parse(URI.create("lb://echo/p?q=1")))
        .isEqualTo(new ServiceUri("echo", "/p?q=1", false));
    assertThat(ServiceUri.parse(URI.create("https://echo/p")).requireTls()).isTrue();
  }

  @Test
  void logical_isAnHttpUriWithTheServiceAsHost() {
    assertThat(ServiceUri.parse(URI.create("lb://echo/a%20b?x=1")).logical())
        .isEqualTo(URI.create("http://echo/a%20b?x=1"));
    assertThatThrownBy(() -> ServiceUri.parse(URI.create("lb://billing_v2/x")).logical())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'billing_v2'")
        .hasMessageContaining("host");
  }

  @Test
  void parse_badUris_sayWhatIsWrong() {
    assertThatThrownBy(() -> ServiceUri.parse(URI.create("ftp://echo/x")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ftp://echo/x")
        .hasMessageContaining("scheme must be 'lb', 'http' or 'https'");
    assertThatThrownBy(() -> ServiceUri.parse(URI.create("lb:echo")))
        .hasMessageContaining("no '//'");
    assertThatThrownBy(() -> ServiceUri.parse(URI.create("lb:///x")))
        .hasMessageContaining("names no service");
    assertThatThrownBy(() -> ServiceUri.parse(URI.create("lb://echo:8080/x")))
        .hasMessageContaining("port is not allowed");
    assertThatThrownBy(() -> ServiceUri.parse(URI.create("lb://me@echo/x")))
        .hasMessageContaining("user info");
    assertThatThrownBy(() -> ServiceUri.parse(URI.create("lb://echo/x#top")))
        .hasMessageContaining("fragment");
  }

  @Test
  void on_usesSchemeFromMetadata() throws Exception {
    ServiceUri uri = ServiceUri.parse(URI.create("lb://echo/p?q=1"));

    assertThat(uri.on(instance(Map.of()))).isEqualTo(URI.create("http://127.0.0.7:8443/p?q=1"));
    assertThat(uri.on(instance(Map.of("scheme", "HTTPS"))))
        .isEqualTo(URI.create("https://127.0.0.7:8443/p?q=1"));
  }

  @Test
  void on_httpsRequested_isNeverDowngraded() throws Exception {
    ServiceUri uri = ServiceUri.parse(URI.create("https://echo/p"));

    assertThat(uri.on(instance(Map.of("scheme", "http"))))
        .isEqualTo(URI.create("https://127.0.0.7:8443/p"));
  }

  @Test
  void on_ipv6Host_isBracketed() throws Exception {
    ServiceInstance v6 = ServiceInstance.builder("echo", "::1", 8080).build();

    assertThat(ServiceUri.parse(URI.create("lb://echo/p")).on(v6))
        .isEqualTo(URI.create("http://[::1]:8080/p"));
  }

  @Test
  void on_unknownScheme_isAConnectFailureNamingTheInstance() {
    ServiceUri uri = ServiceUri.parse(URI.create("lb://echo/p"));

    assertThatThrownBy(() -> uri.on(instance(Map.of("scheme", "ftp"))))
        .isInstanceOf(ConnectException.class)
        .hasMessageContaining("127.0.0.7:8443")
        .hasMessageContaining("scheme='ftp'");
  }
}
