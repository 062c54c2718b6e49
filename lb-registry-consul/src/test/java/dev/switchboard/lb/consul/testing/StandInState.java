package dev.switchboard.lb.consul.testing;

import static dev.switchboard.lb.consul.testing.GoJson.duration;
import static dev.switchboard.lb.consul.testing.GoJson.field;
import static dev.switchboard.lb.consul.testing.GoJson.integer;
import static dev.switchboard.lb.consul.testing.GoJson.meta;
import static dev.switchboard.lb.consul.testing.GoJson.status;
import static dev.switchboard.lb.consul.testing.GoJson.strings;
import static dev.switchboard.lb.consul.testing.GoJson.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.switchboard.lb.consul.testing.Entries.Check;
import dev.switchboard.lb.consul.testing.Entries.Node;
import dev.switchboard.lb.consul.testing.Entries.Service;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/*
 * The stand-in's catalog
 * ----------------------
 * One agent node (with its serfHealth check, passing) plus any nodes registered through
 * /v1/catalog/register. Every change takes the next raft index; each service name remembers the
 * index of its last change (never forgotten, so it never goes backwards unless rewound), and a
 * name never seen reports the global index, so blocking queries on it wake on any change, as they
 * do on Consul.
 *
 * Behaviour followed from Consul (agent/agent.go, agent/acl.go, api-docs):
 *  - a new check is critical unless Status says otherwise; re-registering a service keeps its
 *    checks' status and restarts their TTL timers;
 *  - a TTL update to an unknown check is 404 "Unknown check ID ..."; to a check without a TTL, 500
 *    "... does not have associated TTL"; deregistering an unknown service is 404 "Unknown service
 *    ID ..." (Consul 1.9+);
 *  - a TTL that runs out makes the check critical ("TTL expired"); a check critical for
 *    DeregisterCriticalServiceAfter (at least the configured minimum, 1 minute on Consul) removes
 *    its service;
 *  - a check update that changes neither status nor output changes no index (anti-entropy syncs
 *    only changes), so heartbeats do not wake blocking queries;
 *  - blocking: with index > 0, hold while the service's index is at most that, up to wait plus up
 *    to wait/16 of jitter.
 * HTTP/TCP/gRPC checks are accepted but never run: their status is their initial one, or what
 * ConsulStandIn.setCheckStatus sets.
 */

/** The stand-in agent's state. Thread-safe (one lock, also the monitor of blocking queries). */
final class StandInState {
  static final String SERF_CHECK = "serfHealth";

  /** A health answer: the index to report and the JSON body. */
  record Health(long index, String body) {}

  private final Object lock = new Object();
  private final ObjectMapper mapper = new ObjectMapper();
  private final ScheduledExecutorService timers;
  private final String agentNode;
  private final String datacenter;
  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final Map<String, Service> services = new LinkedHashMap<>();
  private final Map<String, Check> checks = new LinkedHashMap<>();
  private final Map<String, Long> serviceIndexes = new HashMap<>();
  private final Map<String, List<String>> rawEntries = new HashMap<>();
  private final long deregisterMinimumNanos;
  private long index = 1;
  private long wakeups;

  StandInState(
      ScheduledExecutorService timers,
      String agentNode,
      String agentAddress,
      String datacenter,
      Duration deregisterMinimum) {
    this.timers = timers;
    this.agentNode = agentNode;
    this.datacenter = datacenter;
    this.deregisterMinimumNanos = deregisterMinimum.toNanos();
    synchronized (lock) {
      nodes.put(agentNode, new Node(agentNode, uuid(agentNode), agentAddress, index));
      Check serf = new Check(agentNode, SERF_CHECK);
      serf.name = "Serf Health Status";
      serf.status = "passing";
      serf.output = "Agent alive and reachable";
      serf.type = "";
      serf.createIndex = index;
      serf.modifyIndex = index;
      checks.put(key(agentNode, SERF_CHECK), serf);
    }
  }

  // ---- agent endpoints ----

  void agentRegister(JsonNode body, boolean replaceExistingChecks) {
    synchronized (lock) {
      if (!body.isObject()) {
        throw new ApiException(400, "Request decode failed: expected a JSON object");
      }
      String name = text(body, "Name", "");
      if (name.isEmpty()) {
        throw new ApiException(400, "Missing service name");
      }
      String id = text(body, "ID", name);
      Service service = new Service(agentNode, id);
      service.name = name;
      service.tags = strings(body, "Tags");
      service.address = text(body, "Address", "");
      service.port = integer(body, "Port", 0);
      service.meta = meta(body);
      weights(service, field(body, "Weights"));
      List<JsonNode> definitions = new ArrayList<>();
      JsonNode single = field(body, "Check");
      if (single != null && !single.isNull()) {
        definitions.add(single);
      }
      JsonNode many = field(body, "Checks");
      if (many != null && many.isArray()) {
        many.forEach(definitions::add);
      }
      List<Check> newChecks = new ArrayList<>();
      for (int i = 0; i < definitions.size(); i++) {
        String defaultId = "service:" + id + (definitions.size() > 1 ? ":" + (i + 1) : "");
        newChecks.add(checkDefinition(definitions.get(i), defaultId, service));
      }

      Service old = services.get(key(agentNode, id));
      long at = next();
      service.createIndex = old == null ? at : old.createIndex;
      service.modifyIndex = at;
      services.put(key(agentNode, id), service);
      if (replaceExistingChecks) {
        Set<String> kept = new HashSet<>();
        newChecks.forEach(c -> kept.add(c.id));
        for (Check c : new ArrayList<>(checks.values())) {
          if (c.node.equals(agentNode) && c.serviceId.equals(id) && !kept.contains(c.id)) {
            removeCheck(c);
          }
        }
      }
      for (Check check : newChecks) {
        Check existing = checks.get(key(agentNode, check.id));
        check.createIndex = existing == null ? at : existing.createIndex;
        check.modifyIndex = at;
        if (existing != null) { // Consul restores the status to avoid flapping
          check.status = existing.status;
          check.output = existing.output;
          check.criticalSince = existing.criticalSince;
          existing.cancelTimers();
          check.generation = existing.generation + 1;
        }
        checks.put(key(agentNode, check.id), check);
        startTtl(check);
        if (check.status.equals("critical")) {
          if (existing == null || !existing.status.equals("critical")) {
            check.criticalSince = System.nanoTime();
          }
          scheduleReap(check);
        }
      }
      touch(name, at);
      if (old != null && !old.name.equals(name)) {
        touch(old.name, at);
      }
    }
  }

  void agentDeregister(String id) {
    synchronized (lock) {
      Service service = services.get(key(agentNode, id));
      if (service == null) {
        throw new ApiException(
            404,
            "Unknown service ID \""
                + id
                + "\". Ensure that the service ID is passed, not the service name.");
      }
      removeService(service);
    }
  }

  void updateTtl(String checkId, String status, String output) {
    synchronized (lock) {
      Check check = checks.get(key(agentNode, checkId));
      if (check == null) {
        throw new ApiException(
            404,
            "Unknown check ID \""
                + checkId
                + "\". Ensure that the check ID is passed, not the check name.");
      }
      if (check.ttlNanos <= 0) {
        throw new ApiException(500, "CheckID \"" + checkId + "\" does not have associated TTL");
      }
      if (!GoJson.STATUSES.contains(status)) {
        throw new ApiException(400, "Unknown check status: \"" + status + "\"");
      }
      check.cancelTimers();
      check.generation++;
      startTtl(check);
      transition(check, status, output);
    }
  }

  /** Sets any check's status, as a check runner or an operator would. */
  void setStatus(String checkId, String status, String output) {
    synchronized (lock) {
      Check check = checks.get(key(agentNode, checkId));
      if (check == null) {
        throw new IllegalArgumentException("no check '" + checkId + "' on the stand-in agent");
      }
      if (!GoJson.STATUSES.contains(status)) {
        throw new IllegalArgumentException("status must be passing, warning or critical");
      }
      transition(check, status, output);
    }
  }

  ObjectNode agentServices() {
    synchronized (lock) {
      ObjectNode out = mapper.createObjectNode();
      for (Service s : services.values()) {
        if (s.node.equals(agentNode)) {
          ObjectNode json = s.json(mapper, false);
          json.put("Datacenter", datacenter);
          out.set(s.id, json);
        }
      }
      return out;
    }
  }

  ObjectNode agentChecks() {
    synchronized (lock) {
      ObjectNode out = mapper.createObjectNode();
      for (Check c : checks.values()) {
        if (c.node.equals(agentNode) && !c.id.equals(SERF_CHECK)) {
          out.set(c.id, c.json(mapper));
        }
      }
      return out;
    }
  }

  // ---- catalog endpoints ----

  void catalogRegister(JsonNode body) {
    synchronized (lock) {
      String nodeName = text(body, "Node", "");
      String address = text(body, "Address", "");
      if (nodeName.isEmpty() || address.isEmpty()) {
        throw new ApiException(400, "Must provide node and address");
      }
      long at = next();
      Node node = nodes.get(nodeName);
      if (node == null) {
        node = new Node(nodeName, text(body, "ID", uuid(nodeName)), address, at);
        nodes.put(nodeName, node);
      } else if (!node.address.equals(address)) {
        node.address = address;
        for (Service s : services.values()) {
          if (s.node.equals(nodeName)) {
            touch(s.name, at);
          }
        }
      }
      JsonNode svc = field(body, "Service");
      Service service = null;
      if (svc != null && svc.isObject()) {
        String name = text(svc, "Service", "");
        if (name.isEmpty()) {
          throw new ApiException(400, "Must provide service name with ID");
        }
        service = new Service(nodeName, text(svc, "ID", name));
        service.name = name;
        service.tags = strings(svc, "Tags");
        service.address = text(svc, "Address", "");
        service.port = integer(svc, "Port", 0);
        service.meta = meta(svc);
        weights(service, field(svc, "Weights"));
        Service old = services.get(key(nodeName, service.id));
        service.createIndex = old == null ? at : old.createIndex;
        service.modifyIndex = at;
        services.put(key(nodeName, service.id), service);
        touch(name, at);
      }
      List<JsonNode> definitions = new ArrayList<>();
      JsonNode single = field(body, "Check");
      if (single != null && single.isObject()) {
        definitions.add(single);
      }
      JsonNode many = field(body, "Checks");
      if (many != null && many.isArray()) {
        many.forEach(definitions::add);
      }
      for (JsonNode def : definitions) {
        Check check = new Check(nodeName, text(def, "CheckID", text(def, "Name", "")));
        if (check.id.isEmpty()) {
          throw new ApiException(400, "Missing check ID");
        }
        check.name = text(def, "Name", check.id);
        check.status = status(text(def, "Status", "critical"));
        check.output = text(def, "Output", "");
        check.serviceId = text(def, "ServiceID", "");
        Service owner = services.get(key(nodeName, check.serviceId));
        check.serviceName = owner == null ? "" : owner.name;
        check.createIndex = at;
        check.modifyIndex = at;
        checks.put(key(nodeName, check.id), check);
        touchNode(nodeName, check, at);
      }
      lock.notifyAll();
    }
  }

  void catalogDeregister(JsonNode body) {
    synchronized (lock) {
      String nodeName = text(body, "Node", "");
      String serviceId = text(body, "ServiceID", "");
      String checkId = text(body, "CheckID", "");
      if (!serviceId.isEmpty()) {
        Service s = services.get(key(nodeName, serviceId));
        if (s != null) {
          removeService(s);
        }
      } else if (!checkId.isEmpty()) {
        Check c = checks.get(key(nodeName, checkId));
        if (c != null) {
          removeCheck(c);
          touch(c.serviceName, next());
        }
      } else {
        for (Service s : new ArrayList<>(services.values())) {
          if (s.node.equals(nodeName)) {
            removeService(s);
          }
        }
        checks.values().removeIf(c -> c.node.equals(nodeName));
        if (!nodeName.equals(agentNode)) {
          nodes.remove(nodeName);
        }
      }
    }
  }

  // ---- health ----

  Health health(String name, boolean passingOnly, long minIndex, Duration wait) {
    synchronized (lock) {
      if (minIndex > 0) {
        long waitNanos = wait.toNanos();
        long jitter = (long) (ThreadLocalRandom.current().nextDouble() * (waitNanos / 16));
        long deadline = System.nanoTime() + waitNanos + jitter;
        long seen = wakeups;
        while (currentIndex(name) <= minIndex && wakeups == seen) {
          long remaining = deadline - System.nanoTime();
          if (remaining <= 0) {
            break;
          }
          try {
            TimeUnit.NANOSECONDS.timedWait(lock, remaining);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
      List<String> entries = new ArrayList<>();
      List<Service> matching = new ArrayList<>();
      for (Service s : services.values()) {
        if (s.name.equals(name)) {
          matching.add(s);
        }
      }
      matching.sort(Comparator.comparing((Service s) -> s.node).thenComparing(s -> s.id));
      for (Service s : matching) {
        ArrayNode entryChecks = mapper.createArrayNode();
        boolean passing = true;
        for (Check c : checks.values()) {
          if (c.node.equals(s.node) && (c.serviceId.isEmpty() || c.serviceId.equals(s.id))) {
            entryChecks.add(c.json(mapper));
            passing &= c.status.equals("passing");
          }
        }
        if (passingOnly && !passing) {
          continue;
        }
        ObjectNode entry = mapper.createObjectNode();
        entry.set("Node", Objects.requireNonNull(nodes.get(s.node)).json(mapper, datacenter));
        entry.set("Service", s.json(mapper, true));
        entry.set("Checks", entryChecks);
        entries.add(entry.toString());
      }
      entries.addAll(rawEntries.getOrDefault(name, List.of()));
      return new Health(currentIndex(name), "[" + String.join(",", entries) + "]");
    }
  }

  /** Ends every blocking query now (the agent stops or restarts). */
  void wakeAll() {
    synchronized (lock) {
      wakeups++;
      lock.notifyAll();
    }
  }

  // ---- test hooks ----

  void addRawEntry(String service, String json) {
    synchronized (lock) {
      rawEntries.computeIfAbsent(service, s -> new ArrayList<>()).add(json);
      touch(service, next());
    }
  }

  void clearRawEntries() {
    synchronized (lock) {
      for (String service : new ArrayList<>(rawEntries.keySet())) {
        rawEntries.remove(service);
        touch(service, next());
      }
    }
  }

  /** Forgets the agent node's services and checks, as an agent restarted without its data. */
  void forgetAgentServices() {
    synchronized (lock) {
      for (Service s : new ArrayList<>(services.values())) {
        if (s.node.equals(agentNode)) {
          removeService(s);
        }
      }
      for (Check c : new ArrayList<>(checks.values())) {
        if (c.node.equals(agentNode) && !c.id.equals(SERF_CHECK)) {
          removeCheck(c);
        }
      }
    }
  }

  /** Every index drops to 1, as after a snapshot restore into a fresh cluster. */
  void rewind() {
    synchronized (lock) {
      index = 1;
      serviceIndexes.replaceAll((name, at) -> 1L);
      lock.notifyAll();
    }
  }

  long index() {
    synchronized (lock) {
      return index;
    }
  }

  Optional<String> checkStatus(String checkId) {
    synchronized (lock) {
      Check c = checks.get(key(agentNode, checkId));
      return c == null ? Optional.empty() : Optional.of(c.status);
    }
  }

  Optional<RegisteredService> service(String id) {
    synchronized (lock) {
      Service s = services.get(key(agentNode, id));
      return s == null
          ? Optional.empty()
          : Optional.of(
              new RegisteredService(s.id, s.name, s.address, s.port, s.tags, s.meta, s.passing));
    }
  }

  List<String> serviceIds() {
    synchronized (lock) {
      List<String> ids = new ArrayList<>();
      for (Service s : services.values()) {
        if (s.node.equals(agentNode)) {
          ids.add(s.id);
        }
      }
      return ids;
    }
  }

  // ---- internals (lock held) ----

  private Check checkDefinition(JsonNode def, String defaultId, Service service) {
    if (!def.isObject()) {
      throw new ApiException(400, "Request decode failed: Check is not an object");
    }
    Check check = new Check(agentNode, text(def, "CheckID", text(def, "ID", defaultId)));
    check.name = text(def, "Name", "Service '" + service.name + "' check");
    check.serviceId = service.id;
    check.serviceName = service.name;
    String ttl = text(def, "TTL", "");
    if (!ttl.isEmpty()) {
      check.ttlNanos = duration(ttl, "TTL").toNanos();
      check.type = "ttl";
    } else if (!text(def, "HTTP", "").isEmpty()) {
      check.type = "http";
    } else if (!text(def, "TCP", "").isEmpty()) {
      check.type = "tcp";
    } else if (!text(def, "GRPC", "").isEmpty()) {
      check.type = "grpc";
    } else {
      throw new ApiException(
          400, "Invalid check: TTL must be > 0 for TTL checks, or HTTP, TCP or GRPC given");
    }
    String after = text(def, "DeregisterCriticalServiceAfter", "");
    check.deregisterAfterNanos =
        after.isEmpty() ? 0 : duration(after, "DeregisterCriticalServiceAfter").toNanos();
    check.status = status(text(def, "Status", "critical"));
    return check;
  }

  private void startTtl(Check check) {
    if (check.ttlNanos <= 0) {
      return;
    }
    long generation = check.generation;
    String key = key(check.node, check.id);
    check.ttlTimer =
        timers.schedule(
            () -> {
              synchronized (lock) {
                Check current = checks.get(key);
                if (current == check && current.generation == generation) {
                  transition(current, "critical", "TTL expired");
                }
              }
            },
            check.ttlNanos,
            TimeUnit.NANOSECONDS);
  }

  private void transition(Check check, String status, String output) {
    if (check.status.equals(status) && check.output.equals(output)) {
      return;
    }
    boolean becameCritical = status.equals("critical") && !check.status.equals("critical");
    check.status = status;
    check.output = output;
    long at = next();
    check.modifyIndex = at;
    if (becameCritical) {
      check.criticalSince = System.nanoTime();
      scheduleReap(check);
    } else if (!status.equals("critical") && check.reapTimer != null) {
      check.reapTimer.cancel(false);
      check.reapTimer = null;
    }
    touchNode(check.node, check, at);
  }

  private void scheduleReap(Check check) {
    if (check.deregisterAfterNanos <= 0 || check.serviceId.isEmpty()) {
      return;
    }
    long since = check.criticalSince;
    long delay = Math.max(check.deregisterAfterNanos, deregisterMinimumNanos);
    long elapsed = System.nanoTime() - since;
    String key = key(check.node, check.id);
    check.reapTimer =
        timers.schedule(
            () -> {
              synchronized (lock) {
                Check current = checks.get(key);
                if (current == check
                    && current.status.equals("critical")
                    && current.criticalSince == since) {
                  Service service = services.get(key(check.node, check.serviceId));
                  if (service != null) {
                    removeService(service);
                  }
                }
              }
            },
            Math.max(0, delay - elapsed),
            TimeUnit.NANOSECONDS);
  }

  private void removeService(Service service) {
    services.remove(key(service.node, service.id));
    for (Check c : new ArrayList<>(checks.values())) {
      if (c.node.equals(service.node) && c.serviceId.equals(service.id)) {
        removeCheck(c);
      }
    }
    touch(service.name, next());
  }

  private void removeCheck(Check check) {
    check.cancelTimers();
    checks.remove(key(check.node, check.id));
  }

  private void touchNode(String node, Check check, long at) {
    if (!check.serviceName.isEmpty()) {
      touch(check.serviceName, at);
      return;
    }
    for (Service s : services.values()) { // a node check affects every service of the node
      if (s.node.equals(node)) {
        touch(s.name, at);
      }
    }
    lock.notifyAll();
  }

  private void touch(String service, long at) {
    if (!service.isEmpty()) {
      serviceIndexes.put(service, at);
    }
    lock.notifyAll();
  }

  private long next() {
    return ++index;
  }

  private long currentIndex(String service) {
    return Math.max(1, serviceIndexes.getOrDefault(service, index));
  }

  private void weights(Service service, @Nullable JsonNode weights) {
    if (weights == null || weights.isNull()) {
      return;
    }
    int passing = integer(weights, "Passing", 0);
    int warning = integer(weights, "Warning", 0);
    if (passing == 0 && warning == 0) {
      return; // Consul's defaults
    }
    if (passing < 1) {
      throw new ApiException(400, "Invalid Weights: Passing must be greater than 0");
    }
    if (warning < 0) {
      throw new ApiException(400, "Invalid Weights: Warning must be greater or equal than 0");
    }
    service.passing = passing;
    service.warning = warning;
  }

  private static String key(String node, String id) {
    return node + '\u0000' + id;
  }

  private static String uuid(String seed) {
    return UUID.nameUUIDFromBytes(seed.getBytes(StandardCharsets.UTF_8)).toString();
  }
}
