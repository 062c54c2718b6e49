package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ServiceInstanceTest {

  @Test
  void builder_defaults_idIsAddressWeight100NoZone() {
    ServiceInstance i = ServiceInstance.builder("echo", "127.0.0.1", 9090).build();
    assertThat(i.id()).isEqualTo("127.0.0.1:9090");
    assertThat(i.weight()).isEqualTo(ServiceInstance.DEFAULT_WEIGHT);
    assertThat(i.zone()).isEqualTo(ServiceInstance.NO_ZONE);
    assertThat(i.draining()).isFalse();
    assertThat(i.address()).isEqualTo("127.0.0.1:9090");
  }

  @Test
  void address_ipv6_bracketed() {
    assertThat(ServiceInstance.builder("echo", "::1", 80).build().address()).isEqualTo("[::1]:80");
  }

  @Test
  void port_outOfRange_rejectedNamingPort() {
    assertThatThrownBy(() -> ServiceInstance.builder("echo", "127.0.0.1", 0).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("port")
        .hasMessageContaining("0");
    assertThatThrownBy(() -> ServiceInstance.builder("echo", "127.0.0.1", 65_536).build())
        .hasMessageContaining("port")
        .hasMessageContaining("65536");
    assertThat(ServiceInstance.builder("echo", "127.0.0.1", 65_535).build().port())
        .isEqualTo(65_535);
  }

  @Test
  void blankFields_rejectedNamingTheField() {
    assertThatThrownBy(() -> ServiceInstance.builder(" ", "127.0.0.1", 1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("service must not be blank");
    assertThatThrownBy(() -> ServiceInstance.builder("echo", "", 1).build())
        .hasMessageStartingWith("host must not be blank");
    assertThatThrownBy(() -> ServiceInstance.builder("echo", "127.0.0.1", 1).id("").build())
        .hasMessageStartingWith("id must not be blank");
    assertThatThrownBy(() -> ServiceInstance.builder("echo", null, 1).build())
        .hasMessageStartingWith("host must not be blank but was null");
  }

  @Test
  void weight_outsideZeroToTenThousand_rejected() {
    assertThatThrownBy(() -> ServiceInstance.builder("echo", "127.0.0.1", 1).weight(-1).build())
        .hasMessageContaining("weight must be between 0 and 10000 but was -1");
    assertThatThrownBy(() -> ServiceInstance.builder("echo", "127.0.0.1", 1).weight(10_001).build())
        .hasMessageContaining("but was 10001");
    assertThat(ServiceInstance.builder("echo", "127.0.0.1", 1).weight(0).build().weight()).isZero();
  }

  @Test
  void metadata_copiedAndNullsRejected() {
    Map<String, String> meta = new HashMap<>();
    meta.put("scheme", "https");
    ServiceInstance i = ServiceInstance.builder("echo", "127.0.0.1", 1).metadata(meta).build();
    meta.put("scheme", "http");
    assertThat(i.metadata()).containsEntry("scheme", "https");

    Map<String, String> bad = new HashMap<>();
    bad.put("k", null);
    assertThatThrownBy(() -> ServiceInstance.builder("echo", "127.0.0.1", 1).metadata(bad).build())
        .hasMessageContaining("metadata");
  }

  @Test
  void withDraining_returnsCopy() {
    ServiceInstance i = ServiceInstance.builder("echo", "127.0.0.1", 1).build();
    assertThat(i.withDraining(true).draining()).isTrue();
    assertThat(i.withDraining(false)).isSameAs(i);
    assertThat(i.toBuilder().build()).isEqualTo(i);
  }
}
