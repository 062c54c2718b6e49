package dev.switchboard.lb.consul.testing;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Reads request bodies as Consul's Go decoding does: field names case-insensitively (and in
 * snake_case), strict types, Consul's validation of service metadata and check statuses, with
 * Consul's error texts. Failures are {@link ApiException}s with status 400.
 */
final class GoJson {
  static final Set<String> STATUSES = Set.of("passing", "warning", "critical");
  private static final Pattern META_KEY = Pattern.compile("[A-Za-z0-9_-]+");

  private GoJson() {}

  /** A field by name as Go's JSON decoding finds it: case-insensitively, also in snake_case. */
  static @Nullable JsonNode field(JsonNode parent, String name) {
    JsonNode exact = parent.get(name);
    if (exact != null) {
      return exact;
    }
    String wanted = name.toLowerCase(Locale.ROOT);
    for (Map.Entry<String, JsonNode> e : parent.properties()) {
      if (e.getKey().replace("_", "").toLowerCase(Locale.ROOT).equals(wanted)) {
        return e.getValue();
      }
    }
    return null;
  }

  static String text(JsonNode parent, String name, String absent) {
    JsonNode node = field(parent, name);
    if (node == null || node.isNull()) {
      return absent;
    }
    if (!node.isTextual()) {
      throw cannotUnmarshal(node, "Go struct field " + name + " of type string");
    }
    return node.textValue();
  }

  static int integer(JsonNode parent, String name, int absent) {
    JsonNode node = field(parent, name);
    if (node == null || node.isNull()) {
      return absent;
    }
    if (!node.isIntegralNumber() || !node.canConvertToInt()) {
      throw cannotUnmarshal(node, "Go struct field " + name + " of type int");
    }
    return node.intValue();
  }

  static List<String> strings(JsonNode parent, String name) {
    JsonNode node = field(parent, name);
    if (node == null || node.isNull()) {
      return List.of();
    }
    if (!node.isArray()) {
      throw cannotUnmarshal(node, "Go struct field " + name + " of type []string");
    }
    List<String> values = new ArrayList<>();
    for (JsonNode value : node) {
      if (!value.isTextual()) {
        throw cannotUnmarshal(value, "Go value of type string");
      }
      values.add(value.textValue());
    }
    return List.copyOf(values);
  }

  /** The "Meta" object of {@code parent}, validated as Consul validates service metadata. */
  static Map<String, String> meta(JsonNode parent) {
    JsonNode node = field(parent, "Meta");
    if (node == null || node.isNull()) {
      return Map.of();
    }
    if (!node.isObject()) {
      throw cannotUnmarshal(node, "Go struct field Meta of type map[string]string");
    }
    Map<String, String> meta = new LinkedHashMap<>();
    for (Map.Entry<String, JsonNode> e : node.properties()) {
      if (!e.getValue().isTextual()) {
        throw cannotUnmarshal(e.getValue(), "Go value of type string");
      }
      meta.put(e.getKey(), e.getValue().textValue());
    }
    if (meta.size() > 64) {
      throw new ApiException(
          400, "Invalid Service Meta: Node metadata cannot contain more than 64 key/value pairs");
    }
    for (Map.Entry<String, String> e : meta.entrySet()) {
      String key = e.getKey();
      String problem = null;
      if (key.isEmpty()) {
        problem = "Key cannot be blank";
      } else if (!META_KEY.matcher(key).matches()) {
        problem = "Key contains invalid characters";
      } else if (key.length() > 128) {
        problem = "Key is too long (limit: 128 characters)";
      } else if (key.startsWith("consul-")) {
        problem = "Key prefix 'consul-' is reserved for internal use";
      } else if (e.getValue().length() > 512) {
        problem = "Value is too long (limit: 512 characters)";
      }
      if (problem != null) {
        throw new ApiException(
            400,
            "Invalid Service Meta: Couldn't load metadata pair ('"
                + key
                + "', '"
                + e.getValue()
                + "'): "
                + problem);
      }
    }
    return meta;
  }

  static String status(String status) {
    if (!STATUSES.contains(status)) {
      throw new ApiException(400, "Invalid check status: \"" + status + "\"");
    }
    return status;
  }

  static Duration duration(String text, String field) {
    try {
      return GoDuration.parse(text);
    } catch (IllegalArgumentException e) {
      throw new ApiException(400, "Request decode failed: " + field + ": " + e.getMessage());
    }
  }

  private static ApiException cannotUnmarshal(JsonNode node, String into) {
    return new ApiException(
        400,
        "Request decode failed: json: cannot unmarshal "
            + node.getNodeType().name().toLowerCase(Locale.ROOT)
            + " into "
            + into);
  }
}
