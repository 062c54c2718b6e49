package dev.switchboard.lb.consul;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.lb.ServiceInstance;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ServiceCodecTest {
  private final ServiceCodec codec = new ServiceCodec();
  private final ObjectMapper mapper = new ObjectMapper();

  private static ServiceInstance echo() {
    return ServiceInstance.builder("echo", "127.0.0.7", 9090)
        .zone("eu-1a")
        .weight(250)
        .metadata(Map.of("scheme", "https", "version", "1.2"))
        .build();
  }

  /** A health entry whose Service is {@code service} on a node at {@code nodeAddress}. */
  private JsonNode entry(String nodeAddress, String service) throws Exception {
    return mapper.readTree(
        "{\"Node\":{\"Node\":\"node-a\",\"Address\":\""
            + nodeAddress
            + "\"},\"Service\":"
            + service
            + ",\"Checks\":[]}");
  }

  private JsonNode asHealthEntry(ObjectNode registration) {
    ObjectNode service = registration.deepCopy();
    service.put("Service", service.remove("Name").asText());
    service.remove("Check");
    ObjectNode entry = mapper.createObjectNode();
    entry.putObject("Node").put("Node", "node-a").put("Address", "127.9.9.9");
    entry.set("Service", service);
    entry.putArray("Checks");
    return entry;
  }

  @Test
  void registration_carriesEveryFieldConsulNeeds() throws Exception {
    ObjectNode json =
        codec.registration(echo(), Duration.ofSeconds(10), Duration.ofMinutes(1), false);

    assertThat(json.get("ID").asText()).isEqualTo("127.0.0.7:9090");
    assertThat(json.get("Name").asText()).isEqualTo("echo");
    assertThat(json.get("Address").asText()).isEqualTo("127.0.0.7");
    assertThat(json.get("Port").asInt()).isEqualTo(9090);
    assertThat(json.get("Tags").isArray()).isTrue();
    assertThat(mapper.convertValue(json.get("Meta"), new TypeReference<Map<String, String>>() {}))
        .isEqualTo(
            Map.of(
                "zone", "eu-1a",
                "weight", "250",
                "draining", "false",
                "scheme", "https",
                "version", "1.2"));
    assertThat(json.get("Weights").get("Passing").asInt()).isEqualTo(3); // round(250 / 100)
    JsonNode check = json.get("Check");
    assertThat(check.get("CheckID").asText()).isEqualTo("service:127.0.0.7:9090");
    assertThat(check.get("TTL").asText()).isEqualTo("10s");
    assertThat(check.get("DeregisterCriticalServiceAfter").asText()).isEqualTo("60s");
    assertThat(check.has("Status")).as("a new check starts critical").isFalse();
    JsonNode passing =
        codec
            .registration(echo(), Duration.ofMillis(800), Duration.ofMinutes(1), true)
            .get("Check");
    assertThat(passing.get("TTL").asText()).isEqualTo("800ms");
    assertThat(passing.get("Status").asText()).isEqualTo("passing");
  }

  @ParameterizedTest
  @CsvSource({"0,1", "49,1", "50,1", "100,1", "149,1", "150,2", "250,3", "10000,100"})
  void consulWeight_isOurWeightInUnitsOfTheDefault_neverZero(int weight, int consul) {
    assertThat(ServiceCodec.consulWeight(weight)).isEqualTo(consul);
  }

  @Test
  void decode_ourRegistration_roundTrips_includingDrainingAndWeightZero() throws Exception {
    ServiceInstance zero = echo().withWeight(0).withDraining(true);
    for (ServiceInstance instance : List.of(echo(), zero)) {
      JsonNode entry =
          asHealthEntry(
              codec.registration(instance, Duration.ofSeconds(1), Duration.ofMinutes(1), false));

      assertThat(codec.decode("echo", entry)).isEqualTo(instance);
    }
  }

  @Test
  void decode_emptyServiceAddress_usesNodeAddress() throws Exception {
    ServiceInstance decoded =
        codec.decode(
            "orders",
            entry(
                "node-a.test",
                "{\"ID\":\"orders-1\",\"Service\":\"orders\",\"Address\":\"\",\"Port\":8080}"));

    assertThat(decoded.host()).isEqualTo("node-a.test");
  }

  @Test
  void decode_springCloudConsulStyle_usesDefaults() throws Exception {
    // Spring Cloud Consul 3+: metadata in Meta, Consul's default weights, no zone unless set.
    ServiceInstance modern =
        codec.decode(
            "orders",
            entry(
                "node-a.test",
                "{\"ID\":\"orders-8080\",\"Service\":\"orders\",\"Tags\":[],\"Address\":\"127.1.1.1\","
                    + "\"Meta\":{\"secure\":\"false\"},\"Port\":8080,"
                    + "\"Weights\":{\"Passing\":1,\"Warning\":1}}"));
    // Before 3.0: metadata as "key=value" tags, zone as a "zone=" tag, plain tags beside them.
    ServiceInstance legacy =
        codec.decode(
            "orders",
            entry(
                "node-a.test",
                "{\"ID\":\"orders-8081\",\"Service\":\"orders\",\"Address\":\"127.1.1.2\","
                    + "\"Tags\":[\"secure=false\",\"zone=eu-1b\",\"contextPath=/api\",\"primary\"],"
                    + "\"Port\":8081}"));

    assertThat(modern)
        .isEqualTo(
            new ServiceInstance(
                "orders",
                "orders-8080",
                "127.1.1.1",
                8080,
                "",
                100,
                Map.of("secure", "false"),
                false));
    assertThat(legacy)
        .isEqualTo(
            new ServiceInstance(
                "orders",
                "orders-8081",
                "127.1.1.2",
                8081,
                "eu-1b",
                100,
                Map.of("secure", "false", "contextPath", "/api"),
                false));
  }

  @Test
  void decode_foreignWeights_keepTheirRatios() throws Exception {
    ServiceInstance heavy =
        codec.decode(
            "orders",
            entry(
                "n",
                "{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Weights\":{\"Passing\":3,\"Warning\":1}}"));
    ServiceInstance huge =
        codec.decode(
            "orders",
            entry(
                "n", "{\"ID\":\"b\",\"Address\":\"h\",\"Port\":1,\"Weights\":{\"Passing\":500}}"));

    assertThat(heavy.weight()).isEqualTo(300);
    assertThat(huge.weight()).isEqualTo(ServiceInstance.MAX_WEIGHT);
  }

  @Test
  void decode_metaTakesPrecedenceOverTags() throws Exception {
    ServiceInstance decoded =
        codec.decode(
            "orders",
            entry(
                "n",
                "{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Tags\":[\"zone=tag\",\"k=tag\"],"
                    + "\"Meta\":{\"zone\":\"meta\",\"k\":\"meta\"}}"));

    assertThat(decoded.zone()).isEqualTo("meta");
    assertThat(decoded.metadata()).containsExactly(Map.entry("k", "meta"));
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      quoteCharacter = '`',
      value = {
        "[1,2]| not a JSON object but an array",
        "{\"Node\":{}}| missing Service",
        "{\"Service\":\"x\"}| Service is not an object but a string",
        "{\"Service\":{\"Address\":\"h\",\"Port\":1}}| missing Service.ID",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\"}}| missing Service.Port",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":\"x\"}}| Service.Port is not an int but a string",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":0}}| port must be between 1 and 65535 but was 0",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"\",\"Port\":1},\"Node\":{\"Address\":\"\"}}| no address",
        "{\"Service\":{\"ID\":\"a\",\"Address\":42,\"Port\":1}}| Service.Address is not a string but a number",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Meta\":[]}}| Service.Meta is not an object",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Meta\":{\"weight\":\"heavy\"}}}| Meta.weight is not an int from 0 to 10000 but 'heavy'",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Meta\":{\"weight\":\"10001\"}}}| Meta.weight is not an int",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Meta\":{\"draining\":\"maybe\"}}}| Meta.draining is not true or false but 'maybe'",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Tags\":\"x\"}}| Service.Tags is not an array",
        "{\"Service\":{\"ID\":\"a\",\"Address\":\"h\",\"Port\":1,\"Weights\":{\"Passing\":\"x\"}}}| Weights.Passing is not an int",
      })
  void decode_malformed_saysWhy(String json, String reason) throws Exception {
    JsonNode entry = mapper.readTree(json.getBytes(UTF_8));

    assertThatThrownBy(() -> codec.decode("orders", entry))
        .isInstanceOf(ServiceCodec.MalformedEntryException.class)
        .hasMessageContaining(reason.strip());
  }

  @Test
  void requireRegistrable_rejectsWhatConsulWouldRefuse_namingTheKey() {
    assertThatThrownBy(
            () -> ServiceCodec.requireRegistrable(withMetadata(Map.of("version.major", "2"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'version.major'")
        .hasMessageContaining("letters, digits");
    assertThatThrownBy(() -> ServiceCodec.requireRegistrable(withMetadata(Map.of("zone", "x"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'zone'")
        .hasMessageContaining("reserved");
    assertThatThrownBy(() -> ServiceCodec.requireRegistrable(withMetadata(Map.of("consul-x", "1"))))
        .hasMessageContaining("'consul-'");
    assertThatThrownBy(
            () -> ServiceCodec.requireRegistrable(withMetadata(Map.of("k".repeat(129), "1"))))
        .hasMessageContaining("128");
    assertThatThrownBy(
            () -> ServiceCodec.requireRegistrable(withMetadata(Map.of("k", "v".repeat(513)))))
        .hasMessageContaining("512");
    Map<String, String> many = new HashMap<>();
    for (int i = 0; i < 62; i++) {
      many.put("k" + i, "v");
    }
    assertThatThrownBy(() -> ServiceCodec.requireRegistrable(withMetadata(many)))
        .hasMessageContaining("has 62 pairs; Consul allows 64");
    many.remove("k0");
    ServiceCodec.requireRegistrable(withMetadata(many)); // 61 + 3 reserved = 64: fine
  }

  @Test
  void goDuration_wholeSecondsOrMillis() {
    assertThat(ServiceCodec.goDuration(Duration.ofMinutes(10))).isEqualTo("600s");
    assertThat(ServiceCodec.goDuration(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  private static ServiceInstance withMetadata(Map<String, String> metadata) {
    return echo().toBuilder().metadata(metadata).build();
  }
}
