package dev.switchboard.lb.zookeeper;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.switchboard.lb.ServiceInstance;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class InstanceCodecTest {
  private final InstanceCodec codec = new InstanceCodec();

  private static ServiceInstance echo() {
    return ServiceInstance.builder("echo", "127.0.0.7", 9090)
        .zone("eu-1a")
        .weight(250)
        .metadata(Map.of("scheme", "https", "version", "1.2"))
        .build();
  }

  @Test
  void encode_writesEveryXDiscoveryField_withOurValuesInAMapPayload() throws Exception {
    JsonNode json = new ObjectMapper().readTree(codec.encode(echo(), 1_700_000_000_000L));

    assertThat(json.get("name").asText()).isEqualTo("echo");
    assertThat(json.get("id").asText()).isEqualTo("127.0.0.7:9090");
    assertThat(json.get("address").asText()).isEqualTo("127.0.0.7");
    assertThat(json.get("port").asInt()).isEqualTo(9090);
    assertThat(json.get("sslPort").isNull()).isTrue();
    assertThat(json.get("registrationTimeUTC").asLong()).isEqualTo(1_700_000_000_000L);
    assertThat(json.get("serviceType").asText()).isEqualTo("DYNAMIC");
    assertThat(json.get("uriSpec").isNull()).isTrue();
    assertThat(json.get("enabled").asBoolean()).isTrue();
    JsonNode payload = json.get("payload");
    assertThat(payload.get("@class").asText()).isEqualTo("java.util.LinkedHashMap");
    assertThat(payload.get("zone").asText()).isEqualTo("eu-1a");
    assertThat(payload.get("weight").asInt()).isEqualTo(250);
    assertThat(payload.get("draining").asBoolean()).isFalse();
    assertThat(payload.get("metadata").get("scheme").asText()).isEqualTo("https");
  }

  @Test
  void encode_draining_setsPayloadFlagAndDisablesForXDiscovery() throws Exception {
    JsonNode json = new ObjectMapper().readTree(codec.encode(echo().withDraining(true), 1L));

    assertThat(json.get("enabled").asBoolean()).isFalse();
    assertThat(json.get("payload").get("draining").asBoolean()).isTrue();
  }

  @Test
  void decode_ourEncoding_roundTrips() throws Exception {
    ServiceInstance drained = echo().withDraining(true);

    assertThat(codec.decode("echo", "127.0.0.7:9090", codec.encode(echo(), 1L))).isEqualTo(echo());
    assertThat(codec.decode("echo", "127.0.0.7:9090", codec.encode(drained, 1L)))
        .isEqualTo(drained);
  }

  @Test
  void decode_takesIdFromNodeNameAndServiceFromWatch() throws Exception {
    ServiceInstance decoded = codec.decode("echo-v2", "node-17", codec.encode(echo(), 1L));

    assertThat(decoded.id()).isEqualTo("node-17");
    assertThat(decoded.service()).isEqualTo("echo-v2");
  }

  @Test
  void decode_noPayload_usesDefaults() throws Exception {
    ServiceInstance decoded = decode("{\"name\":\"echo\",\"address\":\"h\",\"port\":1}");

    assertThat(decoded.zone()).isEqualTo(ServiceInstance.NO_ZONE);
    assertThat(decoded.weight()).isEqualTo(ServiceInstance.DEFAULT_WEIGHT);
    assertThat(decoded.metadata()).isEmpty();
    assertThat(decoded.draining()).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "null",
        "\"a string payload\"",
        "42",
        "[1,2,3]",
        "{\"@class\":\"com.example.InstanceDetails\",\"description\":\"x\",\"tags\":[\"a\"]}"
      })
  void decode_payloadOfOtherShapes_usesDefaults(String payload) throws Exception {
    ServiceInstance decoded =
        decode("{\"address\":\"h\",\"port\":8080,\"payload\":" + payload + "}");

    assertThat(decoded.port()).isEqualTo(8080);
    assertThat(decoded.zone()).isEqualTo(ServiceInstance.NO_ZONE);
    assertThat(decoded.weight()).isEqualTo(ServiceInstance.DEFAULT_WEIGHT);
  }

  @Test
  void decode_springCloudZookeeperPayload_readsMetadataZoneAndStatus() throws Exception {
    String spring =
        "{\"name\":\"orders\",\"id\":\"a1\",\"address\":\"127.1.1.1\",\"port\":8080,"
            + "\"sslPort\":null,\"payload\":{\"@class\":"
            + "\"org.springframework.cloud.zookeeper.discovery.ZookeeperInstance\","
            + "\"id\":\"orders-1\",\"name\":\"orders\",\"metadata\":{\"zone\":\"us-2b\","
            + "\"instance_status\":\"UP\"}},\"registrationTimeUTC\":1,\"serviceType\":\"DYNAMIC\","
            + "\"uriSpec\":{\"parts\":[{\"value\":\"scheme\",\"variable\":true}]}}";

    ServiceInstance up = decode(spring);
    ServiceInstance outOfService = decode(spring.replace("\"UP\"", "\"OUT_OF_SERVICE\""));

    assertThat(up.zone()).isEqualTo("us-2b");
    assertThat(up.draining()).isFalse();
    assertThat(up.metadata()).containsEntry("instance_status", "UP");
    assertThat(outOfService.draining()).isTrue();
  }

  @Test
  void decode_disabledXDiscoveryInstance_isDraining() throws Exception {
    assertThat(decode("{\"address\":\"h\",\"port\":1,\"enabled\":false}").draining()).isTrue();
  }

  @Test
  void decode_onlySslPort_usesIt() throws Exception {
    assertThat(decode("{\"address\":\"h\",\"port\":null,\"sslPort\":8443}").port()).isEqualTo(8443);
  }

  @Test
  void decode_portAsNumericString_isCoercedAsXDiscoveryDoes() throws Exception {
    assertThat(decode("{\"address\":\"h\",\"port\":\"8080\"}").port()).isEqualTo(8080);
  }

  @Test
  void decode_metadataScalars_becomeStrings() throws Exception {
    ServiceInstance decoded =
        decode(
            "{\"address\":\"h\",\"port\":1,\"payload\":{\"metadata\":{\"n\":3,\"b\":true,"
                + "\"s\":\"x\",\"gone\":null}}}");

    assertThat(decoded.metadata())
        .containsOnly(Map.entry("n", "3"), Map.entry("b", "true"), Map.entry("s", "x"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "not json at all",
        "{\"address\":\"h\",\"port\":",
        "[\"an\",\"array\"]",
        "\"a string\"",
        "{\"port\":8080}",
        "{\"address\":\"h\"}",
        "{\"address\":\"h\",\"port\":0}",
        "{\"address\":\"h\",\"port\":70000}",
        "{\"address\":\" \",\"port\":1}",
        "{\"address\":42,\"port\":1}",
        "{\"address\":\"h\",\"port\":\"eighty\"}",
        "{\"address\":\"h\",\"port\":80.5}",
        "{\"address\":\"h\",\"port\":{\"n\":80}}",
        "{\"address\":\"h\",\"port\":1,\"enabled\":\"no\"}",
        "{\"address\":\"h\",\"port\":1,\"payload\":{\"weight\":\"heavy\"}}",
        "{\"address\":\"h\",\"port\":1,\"payload\":{\"weight\":-1}}",
        "{\"address\":\"h\",\"port\":1,\"payload\":{\"zone\":7}}",
        "{\"address\":\"h\",\"port\":1,\"payload\":{\"draining\":1}}",
        "{\"address\":\"h\",\"port\":1,\"payload\":{\"metadata\":[\"a\"]}}",
        "{\"address\":\"h\",\"port\":1,\"payload\":{\"metadata\":{\"k\":{\"deep\":1}}}}"
      })
  void decode_malformed_throwsWithReason(String json) {
    assertThatThrownBy(() -> decode(json))
        .isInstanceOf(InstanceCodec.MalformedNodeException.class)
        .message()
        .isNotBlank();
  }

  @Test
  void decode_emptyNode_isMalformed() {
    assertThatThrownBy(() -> codec.decode("echo", "n", new byte[0]))
        .isInstanceOf(InstanceCodec.MalformedNodeException.class)
        .hasMessage("no data");
    assertThatThrownBy(() -> codec.decode("echo", "n", null))
        .isInstanceOf(InstanceCodec.MalformedNodeException.class);
  }

  @Test
  void decode_oneMegabyteOfNesting_failsFastWithoutStackOverflow() {
    byte[] garbage = new byte[1_000_000];
    Arrays.fill(garbage, (byte) '[');

    assertThatThrownBy(() -> codec.decode("echo", "n", garbage))
        .isInstanceOf(InstanceCodec.MalformedNodeException.class)
        .hasMessageStartingWith("not JSON");
  }

  @Test
  void decode_reasons_nameTheField() {
    assertThatThrownBy(() -> decode("{\"address\":\"h\"}")).hasMessage("missing port");
    assertThatThrownBy(() -> decode("{\"address\":\"h\",\"port\":true}"))
        .hasMessage("port is not an int but a boolean");
    assertThatThrownBy(() -> decode("{\"address\":\"h\",\"port\":0}")).hasMessageContaining("port");
  }

  private ServiceInstance decode(String json) throws InstanceCodec.MalformedNodeException {
    return codec.decode("echo", "n1", json.getBytes(UTF_8));
  }
}
