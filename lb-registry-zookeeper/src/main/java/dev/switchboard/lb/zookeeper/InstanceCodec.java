package dev.switchboard.lb.zookeeper;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.lb.ServiceInstance;
import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/*
 * Node format
 * -----------
 * Nodes are Curator x-discovery's ServiceInstance JSON (see x-discovery's ServiceInstance and
 * JsonInstanceSerializer), so x-discovery and Spring Cloud Zookeeper services are members, and
 * x-discovery readers see ours:
 *
 *   {"name":"echo","id":"127.0.0.1:9090","address":"127.0.0.1","port":9090,"sslPort":null,
 *    "payload":{"@class":"java.util.LinkedHashMap","zone":"eu-1a","weight":100,
 *               "draining":false,"metadata":{"scheme":"http"}},
 *    "registrationTimeUTC":1700000000000,"serviceType":"DYNAMIC","uriSpec":null,"enabled":true}
 *
 * x-discovery types the payload with Jackson's @JsonTypeInfo(use = CLASS): the "@class" property
 * names the payload's Java class, which the reader must have. We name java.util.LinkedHashMap, so
 * any x-discovery reader whose payload type is Map or Object decodes ours without our jar. (Spring
 * Cloud Zookeeper reads payloads as its own ZookeeperInstance class and so cannot read ours.)
 *
 * Reading is lenient about what others write and strict about what a client needs:
 *  - address (text) and port are required; port falls back to sslPort as Spring Cloud does.
 *  - payload may be absent, null, or any shape: only an object is looked into, "@class" is
 *    ignored. Our fields (zone, weight, draining, metadata) must have the right types when present.
 *    Spring Cloud's payload {"id","name","metadata":{...}} works too: metadata "zone" gives the
 *    zone, and an "instance_status" other than UP (Spring's OUT_OF_SERVICE) means draining.
 *  - "enabled": false (x-discovery's switch) means draining.
 *  - the node's name is the instance id (it is unique under the service node; the JSON id of a
 *    DYNAMIC_SEQUENTIAL x-discovery node is not), and the watched service is the service name.
 * Anything else is a MalformedNodeException naming the reason; the caller logs it with the path.
 */

/** Encodes instances as x-discovery JSON and decodes nodes written by us or others. Thread-safe. */
final class InstanceCodec {
  static final String PAYLOAD_CLASS = "java.util.LinkedHashMap";
  static final String SPRING_STATUS_KEY = "instance_status";

  // ObjectMapper is thread-safe once configured. Default stream read constraints bound nesting
  // depth (1000) and string length, so hostile nodes fail fast instead of exhausting the stack.
  private final ObjectMapper mapper = new ObjectMapper();

  /** The JSON for {@code instance}, registered at {@code registrationTimeUtc} (epoch millis). */
  byte[] encode(ServiceInstance instance, long registrationTimeUtc) {
    ObjectNode payload = mapper.createObjectNode();
    payload.put("@class", PAYLOAD_CLASS);
    payload.put("zone", instance.zone());
    payload.put("weight", instance.weight());
    payload.put("draining", instance.draining());
    ObjectNode metadata = payload.putObject("metadata");
    new TreeMap<>(instance.metadata()).forEach(metadata::put);

    ObjectNode root = mapper.createObjectNode();
    root.put("name", instance.service());
    root.put("id", instance.id());
    root.put("address", instance.host());
    root.put("port", instance.port());
    root.putNull("sslPort");
    root.set("payload", payload);
    root.put("registrationTimeUTC", registrationTimeUtc);
    root.put("serviceType", "DYNAMIC");
    root.putNull("uriSpec");
    root.put("enabled", !instance.draining());
    try {
      return mapper.writeValueAsBytes(root);
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot encode instance " + instance.id(), e);
    }
  }

  /**
   * Decodes the node {@code nodeName} under the node of {@code service}.
   *
   * @throws MalformedNodeException saying why the node is not a usable instance
   */
  ServiceInstance decode(String service, String nodeName, byte @Nullable [] data)
      throws MalformedNodeException {
    if (data == null || data.length == 0) {
      throw new MalformedNodeException("no data");
    }
    JsonNode root;
    try {
      root = mapper.readTree(data);
    } catch (IOException | RuntimeException e) {
      throw new MalformedNodeException("not JSON (" + firstLine(e.getMessage()) + ")");
    }
    if (root == null || !root.isObject()) {
      throw new MalformedNodeException(
          "not a JSON object but " + (root == null ? "nothing" : describe(root)));
    }
    String host = requiredText(root, "address");
    int port = port(root);
    boolean enabled = optionalBoolean(root, "enabled", true, "enabled");

    String zone = ServiceInstance.NO_ZONE;
    int weight = ServiceInstance.DEFAULT_WEIGHT;
    boolean draining = !enabled;
    Map<String, String> metadata = Map.of();
    JsonNode payload = root.get("payload");
    if (payload != null && payload.isObject()) {
      metadata = metadata(payload.get("metadata"));
      String zoneText = optionalText(payload, "zone", "payload.zone");
      if (zoneText == null) {
        zoneText = metadata.get("zone");
      }
      zone = zoneText == null ? ServiceInstance.NO_ZONE : zoneText;
      weight = optionalInt(payload, "weight", ServiceInstance.DEFAULT_WEIGHT, "payload.weight");
      draining |= optionalBoolean(payload, "draining", false, "payload.draining");
      String springStatus = metadata.get(SPRING_STATUS_KEY);
      draining |= springStatus != null && !springStatus.equalsIgnoreCase("UP");
    }
    try {
      return new ServiceInstance(service, nodeName, host, port, zone, weight, metadata, draining);
    } catch (IllegalArgumentException e) {
      throw new MalformedNodeException(e.getMessage());
    }
  }

  private static int port(JsonNode root) throws MalformedNodeException {
    JsonNode port = root.get("port");
    if (port != null && !port.isNull()) {
      return intValue(port, "port");
    }
    JsonNode sslPort = root.get("sslPort");
    if (sslPort != null && !sslPort.isNull()) {
      return intValue(sslPort, "sslPort");
    }
    throw new MalformedNodeException("missing port");
  }

  private static int intValue(JsonNode node, String field) throws MalformedNodeException {
    if (node.isIntegralNumber() && node.canConvertToInt()) {
      return node.intValue();
    }
    // x-discovery's Jackson coerces "8080" to a number; so do we.
    if (node.isTextual()) {
      try {
        return Integer.parseInt(node.textValue().trim());
      } catch (NumberFormatException e) {
        // fall through
      }
    }
    throw new MalformedNodeException(field + " is not an int but " + describe(node));
  }

  private static String requiredText(JsonNode parent, String field) throws MalformedNodeException {
    String text = optionalText(parent, field, field);
    if (text == null) {
      throw new MalformedNodeException("missing " + field);
    }
    return text;
  }

  private static @Nullable String optionalText(JsonNode parent, String field, String label)
      throws MalformedNodeException {
    JsonNode node = parent.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      throw new MalformedNodeException(label + " is not a string but " + describe(node));
    }
    return node.textValue();
  }

  private static int optionalInt(JsonNode parent, String field, int absent, String label)
      throws MalformedNodeException {
    JsonNode node = parent.get(field);
    return node == null || node.isNull() ? absent : intValue(node, label);
  }

  private static boolean optionalBoolean(
      JsonNode parent, String field, boolean absent, String label) throws MalformedNodeException {
    JsonNode node = parent.get(field);
    if (node == null || node.isNull()) {
      return absent;
    }
    if (!node.isBoolean()) {
      throw new MalformedNodeException(label + " is not a boolean but " + describe(node));
    }
    return node.booleanValue();
  }

  private static Map<String, String> metadata(@Nullable JsonNode node)
      throws MalformedNodeException {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new MalformedNodeException("payload.metadata is not an object but " + describe(node));
    }
    Map<String, String> metadata = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      JsonNode value = e.getValue();
      if (value.isNull()) {
        continue;
      }
      if (!value.isValueNode()) {
        throw new MalformedNodeException(
            "payload.metadata." + e.getKey() + " is not a scalar but " + describe(value));
      }
      metadata.put(e.getKey(), value.asText());
    }
    return metadata;
  }

  private static String describe(JsonNode node) {
    JsonNodeType type = node.getNodeType();
    return switch (type) {
      case OBJECT -> "an object";
      case ARRAY -> "an array";
      case STRING -> "a string";
      case NUMBER -> "a number";
      case BOOLEAN -> "a boolean";
      default -> type.name().toLowerCase(Locale.ROOT);
    };
  }

  private static String firstLine(@Nullable String message) {
    if (message == null) {
      return "unreadable";
    }
    int newline = message.indexOf('\n');
    String line = newline < 0 ? message : message.substring(0, newline);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  /** A node that is not a usable instance; the message says why. */
  static final class MalformedNodeException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedNodeException(String reason) {
      super(reason, null, false, false);
    }
  }
}
