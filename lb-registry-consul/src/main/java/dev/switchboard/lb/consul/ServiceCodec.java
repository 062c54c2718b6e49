package dev.switchboard.lb.consul;

import com.fasterxml.jackson.core.JacksonException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeType;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.lb.ServiceInstance;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/*
 * What an instance looks like in Consul
 * -------------------------------------
 * We register (PUT /v1/agent/service/register):
 *
 *   {"ID":"127.0.0.7:9090","Name":"echo","Tags":[],"Address":"127.0.0.7","Port":9090,
 *    "Meta":{"zone":"eu-1a","weight":"250","draining":"false","scheme":"https"},
 *    "Weights":{"Passing":3,"Warning":1},
 *    "Check":{"CheckID":"service:127.0.0.7:9090","Name":"Switchboard heartbeat","TTL":"10s",
 *             "DeregisterCriticalServiceAfter":"1m"}}
 *
 * - The instance id is Consul's service ID, unique per agent; the check id is Consul's own default
 *   for a service's single check, "service:<ID>".
 * - Meta carries zone, weight and draining next to the instance's metadata, as strings (Consul
 *   allows nothing else). "zone" is also Spring Cloud Consul's zone key, so Spring clients see our
 *   zones and we see theirs. The three keys are reserved: metadata may not use them.
 * - Meta keys must satisfy Consul (letters, digits, '-' and '_', at most 128 characters, not
 *   starting with "consul-", at most 64 pairs; values at most 512 characters). We check before
 *   sending, so a bad key is an IllegalArgumentException naming it rather than a 400 from the agent.
 * - Weights: Consul's unit is our DEFAULT_WEIGHT, so Consul's default weight 1 is our default 100.
 *   We send Passing = max(1, round(weight / 100)) for Consul DNS and other readers (Consul has no
 *   weight 0), and keep the exact weight in Meta.
 *
 * Reading GET /v1/health/service/<name> entries ({"Node":{...},"Service":{...},"Checks":[...]}),
 * lenient about what others register and strict about what a client needs, as InstanceCodec in
 * lb-registry-zookeeper:
 *  - Service.ID (text) and Service.Port (an int, or digits) are required; the host is
 *    Service.Address, or Node.Address when that is empty (Consul's documented fallback).
 *  - Meta "zone", else a tag "zone=<zone>" (Spring Cloud Consul before 3.0 kept metadata in
 *    "key=value" tags), else no zone. Meta "weight" must be an int 0..10000 when present; without
 *    it, Weights.Passing x 100 (capped at 10000), else the default weight. Meta "draining" must be
 *    "true" or "false" when present.
 *  - metadata: Meta without the reserved keys, plus "key=value" tags whose key Meta lacks. Plain
 *    tags are ignored.
 *  - The instance's service is the watched service name.
 * Anything else is a MalformedEntryException naming the reason; the caller logs it once per entry.
 */

/** Encodes registrations and decodes health entries. Thread-safe. */
final class ServiceCodec {
  static final String ZONE = "zone";
  static final String WEIGHT = "weight";
  static final String DRAINING = "draining";
  static final Set<String> RESERVED_KEYS = Set.of(ZONE, WEIGHT, DRAINING);
  static final String CHECK_NAME = "Switchboard heartbeat";

  // Consul's limits on service metadata (structs.ValidateServiceMetadata).
  static final int MAX_META_PAIRS = 64;
  static final int MAX_META_KEY_LENGTH = 128;
  static final int MAX_META_VALUE_LENGTH = 512;
  private static final Pattern META_KEY = Pattern.compile("[A-Za-z0-9_-]+");
  private static final String RESERVED_PREFIX = "consul-";

  // Thread-safe once configured; default read constraints bound nesting and string length.
  private final ObjectMapper mapper = new ObjectMapper();

  ObjectMapper mapper() {
    return mapper;
  }

  /** Consul's id of the TTL check registered with service {@code serviceId}. */
  static String checkId(String serviceId) {
    return "service:" + serviceId;
  }

  /**
   * Throws {@link IllegalArgumentException} if Consul would refuse the instance's metadata, or if
   * it uses a key reserved for zone, weight and draining.
   */
  static void requireRegistrable(ServiceInstance instance) {
    Map<String, String> metadata = instance.metadata();
    if (metadata.size() + RESERVED_KEYS.size() > MAX_META_PAIRS) {
      throw new IllegalArgumentException(
          "metadata of instance '"
              + instance.id()
              + "' has "
              + metadata.size()
              + " pairs; Consul allows "
              + MAX_META_PAIRS
              + " and zone, weight and draining take "
              + RESERVED_KEYS.size());
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      String key = e.getKey();
      String problem = null;
      if (RESERVED_KEYS.contains(key)) {
        problem = "is reserved for the instance's own " + key + " field";
      } else if (key.length() > MAX_META_KEY_LENGTH) {
        problem = "is longer than Consul's " + MAX_META_KEY_LENGTH + " characters";
      } else if (!META_KEY.matcher(key).matches()) {
        problem = "may hold only letters, digits, '-' and '_' in Consul";
      } else if (key.startsWith(RESERVED_PREFIX)) {
        problem = "starts with Consul's reserved prefix '" + RESERVED_PREFIX + "'";
      } else if (e.getValue().length() > MAX_META_VALUE_LENGTH) {
        problem = "has a value longer than Consul's " + MAX_META_VALUE_LENGTH + " characters";
      }
      if (problem != null) {
        throw new IllegalArgumentException(
            "metadata key '" + key + "' of instance '" + instance.id() + "' " + problem);
      }
    }
  }

  /**
   * The registration body for {@code instance}. With {@code passing}, the check is declared passing
   * (for re-registrations: Consul keeps an existing check's status anyway); without, it starts
   * critical, as Consul's checks do, until the first heartbeat.
   */
  ObjectNode registration(
      ServiceInstance instance, Duration ttl, Duration deregisterAfter, boolean passing) {
    ObjectNode meta = mapper.createObjectNode();
    meta.put(ZONE, instance.zone());
    meta.put(WEIGHT, Integer.toString(instance.weight()));
    meta.put(DRAINING, Boolean.toString(instance.draining()));
    new TreeMap<>(instance.metadata()).forEach(meta::put);

    ObjectNode root = mapper.createObjectNode();
    root.put("ID", instance.id());
    root.put("Name", instance.service());
    root.putArray("Tags");
    root.put("Address", instance.host());
    root.put("Port", instance.port());
    root.set("Meta", meta);
    ObjectNode weights = root.putObject("Weights");
    weights.put("Passing", consulWeight(instance.weight()));
    weights.put("Warning", 1);
    ObjectNode check = root.putObject("Check");
    check.put("CheckID", checkId(instance.id()));
    check.put("Name", CHECK_NAME);
    check.put("TTL", goDuration(ttl));
    check.put("DeregisterCriticalServiceAfter", goDuration(deregisterAfter));
    if (passing) {
      check.put("Status", "passing");
    }
    return root;
  }

  byte[] bytes(JsonNode node) {
    try {
      return mapper.writeValueAsBytes(node);
    } catch (JacksonException e) {
      throw new IllegalStateException("cannot encode " + node, e);
    }
  }

  /** Consul's weight for ours: its unit is our default weight, and it has no 0. */
  static int consulWeight(int weight) {
    return Math.max(1, Math.round(weight / (float) ServiceInstance.DEFAULT_WEIGHT));
  }

  /** A duration as Go's time.ParseDuration reads it: whole seconds, else milliseconds. */
  static String goDuration(Duration duration) {
    long millis = duration.toMillis();
    return millis % 1000 == 0 ? millis / 1000 + "s" : millis + "ms";
  }

  /**
   * Decodes one entry of a health response for {@code service}.
   *
   * @throws MalformedEntryException saying why the entry is not a usable instance
   */
  ServiceInstance decode(String service, JsonNode entry) throws MalformedEntryException {
    if (!entry.isObject()) {
      throw new MalformedEntryException("not a JSON object but " + describe(entry));
    }
    JsonNode svc = entry.get("Service");
    if (svc == null || !svc.isObject()) {
      throw new MalformedEntryException(
          svc == null ? "missing Service" : "Service is not an object but " + describe(svc));
    }
    JsonNode node = entry.get("Node");
    if (node != null && !node.isNull() && !node.isObject()) {
      throw new MalformedEntryException("Node is not an object but " + describe(node));
    }
    String id = optionalText(svc, "ID", "Service.ID");
    if (id == null || id.isBlank()) {
      throw new MalformedEntryException("missing Service.ID");
    }
    String host = optionalText(svc, "Address", "Service.Address");
    if (host == null || host.isBlank()) {
      host = node == null || node.isNull() ? null : optionalText(node, "Address", "Node.Address");
    }
    if (host == null || host.isBlank()) {
      throw new MalformedEntryException("no address (Service.Address and Node.Address are empty)");
    }
    int port = port(svc);
    Map<String, String> meta = meta(svc.get("Meta"));
    Map<String, String> tagPairs = tagPairs(svc.get("Tags"));

    String zone = meta.getOrDefault(ZONE, tagPairs.getOrDefault(ZONE, ServiceInstance.NO_ZONE));
    int weight = weight(meta.get(WEIGHT), svc.get("Weights"));
    boolean draining = draining(meta.get(DRAINING));
    Map<String, String> metadata = new LinkedHashMap<>();
    tagPairs.forEach(
        (k, v) -> {
          if (!RESERVED_KEYS.contains(k)) {
            metadata.put(k, v);
          }
        });
    meta.forEach(
        (k, v) -> {
          if (!RESERVED_KEYS.contains(k)) {
            metadata.put(k, v);
          }
        });
    try {
      return new ServiceInstance(service, id, host, port, zone, weight, metadata, draining);
    } catch (IllegalArgumentException e) {
      throw new MalformedEntryException(e.getMessage());
    }
  }

  /** What identifies an entry's content for warnings: its node and service, not its checks. */
  static String fingerprint(JsonNode entry) {
    if (!entry.isObject()) {
      return entry.toString();
    }
    JsonNode node = entry.get("Node");
    String nodePart = "";
    if (node != null && node.isObject()) {
      nodePart = node.path("Node").asText("") + "/" + node.path("Address").asText("");
    }
    return nodePart + " " + entry.path("Service");
  }

  /** The entry's node name, for telling apart equal service IDs on different nodes. */
  static String nodeName(JsonNode entry) {
    JsonNode name = entry.path("Node").path("Node");
    return name.isTextual() ? name.textValue() : "";
  }

  private static int port(JsonNode svc) throws MalformedEntryException {
    JsonNode port = svc.get("Port");
    if (port == null || port.isNull()) {
      throw new MalformedEntryException("missing Service.Port");
    }
    if (port.isIntegralNumber() && port.canConvertToInt()) {
      return port.intValue();
    }
    if (port.isTextual()) {
      try {
        return Integer.parseInt(port.textValue().trim());
      } catch (NumberFormatException e) {
        // fall through
      }
    }
    throw new MalformedEntryException("Service.Port is not an int but " + describe(port));
  }

  private static int weight(@Nullable String metaWeight, @Nullable JsonNode weights)
      throws MalformedEntryException {
    if (metaWeight != null) {
      try {
        int weight = Integer.parseInt(metaWeight.trim());
        if (weight >= 0 && weight <= ServiceInstance.MAX_WEIGHT) {
          return weight;
        }
      } catch (NumberFormatException e) {
        // fall through
      }
      throw new MalformedEntryException(
          "Meta.weight is not an int from 0 to "
              + ServiceInstance.MAX_WEIGHT
              + " but '"
              + abbreviate(metaWeight)
              + "'");
    }
    if (weights == null || weights.isNull()) {
      return ServiceInstance.DEFAULT_WEIGHT;
    }
    JsonNode passing = weights.isObject() ? weights.get("Passing") : null;
    if (passing == null || !passing.isIntegralNumber() || !passing.canConvertToLong()) {
      throw new MalformedEntryException(
          "Weights.Passing is not an int but "
              + (passing == null ? describe(weights) : describe(passing)));
    }
    long scaled = Math.max(0, passing.longValue()) * ServiceInstance.DEFAULT_WEIGHT;
    return (int) Math.min(ServiceInstance.MAX_WEIGHT, scaled);
  }

  private static boolean draining(@Nullable String text) throws MalformedEntryException {
    if (text == null) {
      return false;
    }
    String t = text.trim().toLowerCase(Locale.ROOT);
    if (t.equals("true")) {
      return true;
    }
    if (t.equals("false")) {
      return false;
    }
    throw new MalformedEntryException(
        "Meta.draining is not true or false but '" + abbreviate(text) + "'");
  }

  private static Map<String, String> meta(@Nullable JsonNode node) throws MalformedEntryException {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw new MalformedEntryException("Service.Meta is not an object but " + describe(node));
    }
    Map<String, String> meta = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      JsonNode value = e.getValue();
      if (value.isNull()) {
        continue;
      }
      if (!value.isValueNode()) {
        throw new MalformedEntryException(
            "Service.Meta." + e.getKey() + " is not a string but " + describe(value));
      }
      meta.put(e.getKey(), value.asText());
    }
    return meta;
  }

  private static Map<String, String> tagPairs(@Nullable JsonNode node)
      throws MalformedEntryException {
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isArray()) {
      throw new MalformedEntryException("Service.Tags is not an array but " + describe(node));
    }
    List<String> tags = new ArrayList<>();
    for (JsonNode tag : node) {
      if (!tag.isTextual()) {
        throw new MalformedEntryException("Service.Tags holds " + describe(tag));
      }
      tags.add(tag.textValue());
    }
    Map<String, String> pairs = new LinkedHashMap<>();
    for (String tag : tags) {
      int eq = tag.indexOf('=');
      if (eq > 0) {
        pairs.putIfAbsent(tag.substring(0, eq), tag.substring(eq + 1));
      }
    }
    return pairs;
  }

  private static @Nullable String optionalText(JsonNode parent, String field, String label)
      throws MalformedEntryException {
    JsonNode node = parent.get(field);
    if (node == null || node.isNull()) {
      return null;
    }
    if (!node.isTextual()) {
      throw new MalformedEntryException(label + " is not a string but " + describe(node));
    }
    return node.textValue();
  }

  static String describe(JsonNode node) {
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

  /** At most 200 characters of the first line of {@code text}. */
  static String abbreviate(@Nullable String text) {
    if (text == null) {
      return "";
    }
    int newline = text.indexOf('\n');
    String line = newline < 0 ? text : text.substring(0, newline);
    return line.length() > 200 ? line.substring(0, 200) + "..." : line;
  }

  /** An entry that is not a usable instance; the message says why. */
  static final class MalformedEntryException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedEntryException(String reason) {
      super(reason, null, false, false);
    }
  }
}
