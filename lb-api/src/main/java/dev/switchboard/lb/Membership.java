package dev.switchboard.lb;

import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Membership: from registry snapshots to endpoints
 * ================================================
 * Registry threads call onMembers/onError; the snapshot is checked there (nulls, foreign
 * services, duplicate ids) and handed to the serial executor. Snapshots arriving within the
 * debounce window replace each other, so a notify storm costs one rebuild.
 *
 * Applying a snapshot distrusts the registry in two cases, both reported as "registry degraded":
 *  - keep-last-known: an empty snapshot never empties a non-empty cluster (a registry outage or a
 *    lost session looks exactly like "no members");
 *  - mass-removal guard: an update that would drop more than massRemovalPercent of the members
 *    removes only those also failing locally (breaker, ejection, health check, recent failures);
 *    the rest stay until a later update confirms their absence or the hold time runs out.
 * Endpoints keep their identity (and counters) across snapshots by id and address.
 */
final class Membership implements MembershipListener {
  private static final Logger logger = LoggerFactory.getLogger(Membership.class);

  private final ClusterState state;
  private final Function<ServiceInstance, Breaker> breakers;
  private final String service;

  // Serial executor only.
  private final Map<Endpoint, Long> held = new HashMap<>();
  private @Nullable List<ServiceInstance> pending;
  private boolean flushScheduled;
  private boolean initialized;

  Membership(ClusterState state, @Nullable CircuitBreakerConfig breakerConfig) {
    this.state = state;
    this.service = state.config.service();
    this.breakers = instance -> Breaker.create(service + "/" + instance.id(), breakerConfig);
  }

  @Override
  public void onMembers(@Nullable List<ServiceInstance> members) {
    if (members == null) {
      onError(new IllegalArgumentException("registry delivered a null member list"));
      return;
    }
    Map<String, ServiceInstance> byId = new LinkedHashMap<>();
    for (ServiceInstance instance : members) {
      if (instance == null) {
        onError(new IllegalArgumentException("registry delivered a null member"));
        return;
      }
      if (!instance.service().equals(service)) {
        logger.warn(
            "Service '{}': skipping member {} of another service '{}'",
            service,
            instance.id(),
            instance.service());
        continue;
      }
      if (byId.putIfAbsent(instance.id(), instance) != null) {
        logger.warn("Service '{}': skipping duplicate member id {}", service, instance.id());
      }
    }
    List<ServiceInstance> snapshot = List.copyOf(byId.values());
    state.serial.execute(() -> offer(snapshot));
  }

  @Override
  public void onError(Throwable error) {
    String problem =
        "registry error, keeping the last known members: "
            + (error.getMessage() == null ? error.getClass().getSimpleName() : error.getMessage());
    state.serial.execute(
        () -> {
          state.setRegistryProblem(problem);
          state.firstAnswerArrived(); // calls waiting for members fail now, naming the problem
        });
  }

  @Override
  public void onConfirmed() {
    state.serial.execute(
        () -> {
          // Only a trusted view is refreshed: confirming an update the cluster refused (an empty
          // list, a mass removal on hold) does not make the members it keeps any fresher.
          if (initialized && state.registryProblem() == null && !state.isClosed()) {
            state.registryUpdated();
          }
        });
  }

  private void offer(List<ServiceInstance> snapshot) {
    pending = snapshot;
    long debounce = state.config.updateDebounceNanos();
    if (debounce <= 0 || !initialized) {
      flush(); // the first snapshot is applied at once: the cluster has nothing else
      return;
    }
    if (!flushScheduled) {
      flushScheduled = true;
      state.timer.schedule(() -> state.serial.execute(this::flush), debounce);
    }
  }

  private void flush() {
    flushScheduled = false;
    List<ServiceInstance> snapshot = pending;
    pending = null;
    if (snapshot == null || state.isClosed()) {
      return;
    }
    apply(snapshot);
  }

  private void apply(List<ServiceInstance> snapshot) {
    long now = state.ticker.read();
    Map<String, Endpoint> endpoints = state.endpoints;
    if (snapshot.isEmpty() && !endpoints.isEmpty()) {
      state.setRegistryProblem(
          "registry returned no members; keeping the " + endpoints.size() + " last known");
      return;
    }
    Map<String, ServiceInstance> incoming = new LinkedHashMap<>();
    for (ServiceInstance instance : snapshot) {
      incoming.put(Endpoint.keyOf(instance), instance);
    }
    List<Endpoint> gone = new ArrayList<>();
    for (Endpoint e : endpoints.values()) {
      if (!incoming.containsKey(e.key())) {
        gone.add(e);
      }
    }
    held.keySet().removeIf(e -> incoming.containsKey(e.key()));

    String problem = null;
    List<Endpoint> toRemove = gone;
    int limit = state.config.massRemovalPercent();
    if (!gone.isEmpty() && gone.size() * 100L > (long) limit * endpoints.size()) {
      toRemove = new ArrayList<>();
      int heldBack = 0;
      for (Endpoint e : gone) {
        if (held.containsKey(e) || failingLocally(e)) {
          toRemove.add(e); // confirmed by a second update, or by our own observations
        } else {
          held.put(e, now);
          heldBack++;
        }
      }
      if (heldBack > 0) {
        problem =
            "update would remove "
                + gone.size()
                + " of "
                + endpoints.size()
                + " members (limit "
                + limit
                + "%); holding "
                + heldBack
                + " that this client sees healthy until a later update confirms it";
        long hold = state.config.massRemovalHoldNanos();
        state.timer.schedule(() -> state.serial.execute(this::expireHeld), hold);
      }
    }

    // Rebuild the map in registry order, keeping existing endpoints (and their counters).
    Map<String, Endpoint> next = new LinkedHashMap<>();
    List<Endpoint> added = new ArrayList<>();
    for (Map.Entry<String, ServiceInstance> entry : incoming.entrySet()) {
      Endpoint e = endpoints.get(entry.getKey());
      if (e == null) {
        e = state.newEndpoint(entry.getValue(), breakers.apply(entry.getValue()));
        if (initialized && state.config.slowStartNanos() > 0) {
          e.startSlowStart(now);
        }
        added.add(e);
      } else if (!e.instance().equals(entry.getValue())) {
        e.updateInstance(entry.getValue());
      }
      next.put(entry.getKey(), e);
    }
    for (Endpoint e : gone) {
      if (!toRemove.contains(e)) {
        next.put(e.key(), e); // held back by the mass-removal guard
      }
    }
    endpoints.clear();
    endpoints.putAll(next);
    for (Endpoint e : toRemove) {
      held.remove(e);
      state.remove(e);
    }
    for (Endpoint e : added) {
      state.notifyListener(l -> l.endpointAdded(e));
    }
    if (!added.isEmpty() || !toRemove.isEmpty()) {
      logger.info(
          "Service '{}': {} members (+{} -{})",
          service,
          endpoints.size(),
          added.size(),
          toRemove.size());
    }
    initialized = true;
    state.registryUpdated();
    state.setRegistryProblem(problem);
    state.rebuild();
    state.firstAnswerArrived();
  }

  private void expireHeld() {
    long now = state.ticker.read();
    long hold = state.config.massRemovalHoldNanos();
    List<Endpoint> expired = new ArrayList<>();
    for (Map.Entry<Endpoint, Long> entry : held.entrySet()) {
      if (now - entry.getValue() >= hold) {
        expired.add(entry.getKey());
      }
    }
    if (expired.isEmpty()) {
      return;
    }
    for (Endpoint e : expired) {
      held.remove(e);
      state.remove(e);
    }
    logger.info(
        "Service '{}': removed {} held-back members after the hold time", service, expired.size());
    if (held.isEmpty()) {
      state.setRegistryProblem(null);
    }
    state.rebuild();
  }

  private static boolean failingLocally(Endpoint e) {
    EndpointHealth h = e.health();
    return h.breaker.isTripped() || h.ejected || h.checkFailing || e.consecutiveFailures() > 0;
  }
}
