package dev.switchboard.lb.consul;

import com.fasterxml.jackson.databind.JsonNode;
import dev.switchboard.lb.ServiceInstance;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * One warning per malformed entry
 * -------------------------------
 * A blocking query returns the whole list every time it wakes, so a malformed entry would be
 * reported on every poll. We remember the fingerprints (node and Service object, not the checks,
 * whose output changes) of the malformed entries in the latest response and warn only about new
 * ones: an entry that changes is a new version and is judged again, as lb-registry-zookeeper does
 * per node version. An entry that leaves and comes back is warned about again.
 */

/** Turns health responses of one service into members. Not thread-safe; owned by its watch. */
final class MemberDecoder {
  private static final Logger logger = LoggerFactory.getLogger(MemberDecoder.class);

  private final String service;
  private final ServiceCodec codec;
  private Set<String> warned = new HashSet<>();
  private long malformedWarnings;

  MemberDecoder(String service, ServiceCodec codec) {
    this.service = service;
    this.codec = codec;
  }

  /**
   * The well-formed members in {@code body}, ordered by id; malformed entries are skipped.
   *
   * @throws MalformedBodyException if the body is not a JSON array at all
   */
  List<ServiceInstance> decode(byte[] body) throws MalformedBodyException {
    JsonNode root;
    try {
      root = codec.mapper().readTree(body);
    } catch (IOException | RuntimeException e) {
      throw new MalformedBodyException(
          "not JSON (" + ServiceCodec.abbreviate(e.getMessage()) + ")");
    }
    if (root == null || root.isMissingNode() || !root.isArray()) {
      throw new MalformedBodyException(
          "not a JSON array but "
              + (root == null || root.isMissingNode() ? "nothing" : ServiceCodec.describe(root)));
    }
    Set<String> malformedNow = new HashSet<>();
    List<ServiceInstance> instances = new ArrayList<>(root.size());
    List<String> nodes = new ArrayList<>(root.size());
    Map<String, Integer> idCounts = new HashMap<>();
    for (JsonNode entry : root) {
      try {
        ServiceInstance instance = codec.decode(service, entry);
        instances.add(instance);
        nodes.add(ServiceCodec.nodeName(entry));
        idCounts.merge(instance.id(), 1, Integer::sum);
      } catch (ServiceCodec.MalformedEntryException e) {
        String fingerprint = ServiceCodec.fingerprint(entry);
        malformedNow.add(fingerprint);
        if (!warned.contains(fingerprint)) {
          malformedWarnings++;
          logger.warn(
              "Skipping malformed Consul entry of service '{}' (Service.ID {}): {}",
              service,
              describeId(entry),
              e.getMessage());
        }
      }
    }
    warned = malformedNow;

    // The same service ID on several nodes (IDs are unique per agent only): tell them apart.
    List<ServiceInstance> members = new ArrayList<>(instances.size());
    for (int i = 0; i < instances.size(); i++) {
      ServiceInstance instance = instances.get(i);
      if (idCounts.get(instance.id()) > 1) {
        instance = instance.toBuilder().id(instance.id() + "@" + nodes.get(i)).build();
      }
      members.add(instance);
    }
    members.sort(Comparator.comparing(ServiceInstance::id));
    return List.copyOf(members);
  }

  /** How many malformed-entry warnings this decoder logged. */
  long malformedWarnings() {
    return malformedWarnings;
  }

  private static String describeId(JsonNode entry) {
    JsonNode id = entry.path("Service").path("ID");
    return id.isTextual() ? "'" + ServiceCodec.abbreviate(id.textValue()) + "'" : "unknown";
  }

  /** A response that is not a list of entries; the message says why. */
  static final class MalformedBodyException extends Exception {
    private static final long serialVersionUID = 1L;

    MalformedBodyException(String reason) {
      super(reason, null, false, false);
    }
  }
}
