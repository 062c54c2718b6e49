package dev.switchboard.lb.consul.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ScheduledFuture;
import org.jspecify.annotations.Nullable;

/**
 * The stand-in catalog's nodes, services and checks, and their JSON in Consul's shapes. Mutable;
 * guarded by the state's lock.
 */
final class Entries {
  private Entries() {}

  static final class Node {
    final String name;
    final String id;
    String address;
    final long createIndex;

    Node(String name, String id, String address, long createIndex) {
      this.name = name;
      this.id = id;
      this.address = address;
      this.createIndex = createIndex;
    }

    ObjectNode json(ObjectMapper mapper, String datacenter) {
      ObjectNode json = mapper.createObjectNode();
      json.put("ID", id);
      json.put("Node", name);
      json.put("Address", address);
      json.put("Datacenter", datacenter);
      ObjectNode tagged = json.putObject("TaggedAddresses");
      tagged.put("lan", address);
      tagged.put("wan", address);
      json.putObject("Meta");
      json.put("CreateIndex", createIndex);
      json.put("ModifyIndex", createIndex);
      return json;
    }
  }

  static final class Service {
    final String node;
    final String id;
    String name = "";
    List<String> tags = List.of();
    String address = "";
    int port;
    Map<String, String> meta = Map.of();
    int passing = 1;
    int warning = 1;
    long createIndex;
    long modifyIndex;

    Service(String node, String id) {
      this.node = node;
      this.id = id;
    }

    /** As in health answers (with indexes) or in /v1/agent/services (without). */
    ObjectNode json(ObjectMapper mapper, boolean withIndexes) {
      ObjectNode json = mapper.createObjectNode();
      json.put("ID", id);
      json.put("Service", name);
      ArrayNode tagArray = json.putArray("Tags");
      tags.forEach(tagArray::add);
      json.put("Address", address);
      ObjectNode metaObject = json.putObject("Meta");
      meta.forEach(metaObject::put);
      json.put("Port", port);
      ObjectNode weights = json.putObject("Weights");
      weights.put("Passing", passing);
      weights.put("Warning", warning);
      json.put("EnableTagOverride", false);
      if (withIndexes) {
        json.put("CreateIndex", createIndex);
        json.put("ModifyIndex", modifyIndex);
      }
      return json;
    }
  }

  static final class Check {
    final String node;
    final String id;
    String name = "";
    String status = "critical";
    String output = "";
    String serviceId = "";
    String serviceName = "";
    String type = "";
    long ttlNanos;
    long deregisterAfterNanos;
    long createIndex;
    long modifyIndex;
    long generation;
    long criticalSince;
    @Nullable ScheduledFuture<?> ttlTimer;
    @Nullable ScheduledFuture<?> reapTimer;

    Check(String node, String id) {
      this.node = node;
      this.id = id;
    }

    void cancelTimers() {
      if (ttlTimer != null) {
        ttlTimer.cancel(false);
      }
      if (reapTimer != null) {
        reapTimer.cancel(false);
      }
    }

    ObjectNode json(ObjectMapper mapper) {
      ObjectNode json = mapper.createObjectNode();
      json.put("Node", node);
      json.put("CheckID", id);
      json.put("Name", name);
      json.put("Status", status);
      json.put("Notes", "");
      json.put("Output", output);
      json.put("ServiceID", serviceId);
      json.put("ServiceName", serviceName);
      json.putArray("ServiceTags");
      json.put("Type", type);
      json.put("CreateIndex", createIndex);
      json.put("ModifyIndex", modifyIndex);
      return json;
    }
  }
}
