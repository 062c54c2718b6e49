package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Cluster state, owned by one serial executor
 * ===========================================
 * Everything here except the published picker runs on the cluster's SerialExecutor, so none of it
 * needs a lock (grpc-java's LoadBalancer contract). Callers never touch it: they read the
 * immutable ClusterPicker through a volatile field and the endpoints' own atomic counters.
 *
 * Rebuild: eligibility is computed in a fixed order -- draining, weight 0, breaker open, ejected,
 * failing health check -- then panic mode (too few healthy: ignore health, as Envoy), then zone
 * preference (the local zone while enough of it is eligible, else spill over to every zone). The
 * survivors, with slow-start weights, become the policy's Candidates. Rebuild requests coalesce:
 * any number of them before the rebuild runs cause one rebuild.
 *
 * Membership (Membership.java) feeds endpoints in; OutlierDetector and HealthChecker change
 * health flags and ask for rebuilds.
 */
final class ClusterState {
  private static final Logger logger = LoggerFactory.getLogger(ClusterState.class);

  final ClusterConfig config;
  final SerialExecutor serial;
  final Scheduler timer;
  final Ticker ticker;

  /** Members by key, in registry order. Serial executor only. */
  final Map<String, Endpoint> endpoints = new LinkedHashMap<>();

  private final AtomicBoolean rebuildQueued = new AtomicBoolean();
  private volatile ClusterPicker published = ClusterPicker.EMPTY;
  private boolean slowStartTickScheduled;
  private volatile boolean closed;

  // Completed once the registry first answered (members, none, or an error) or the cluster closed.
  final CompletableFuture<Void> firstAnswer = new CompletableFuture<>();

  // Registry trust and freshness, shown in snapshots.
  private volatile @Nullable String registryProblem;
  private volatile long registryUpdateNanos;

  ClusterState(ClusterConfig config, SerialExecutor serial, Scheduler timer) {
    this.config = config;
    this.serial = serial;
    this.timer = timer;
    this.ticker = config.ticker();
    this.registryUpdateNanos = ticker.read(); // the age counts from creation until a first update
  }

  ClusterPicker published() {
    return published;
  }

  @Nullable String registryProblem() {
    return registryProblem;
  }

  void setRegistryProblem(@Nullable String problem) {
    if (problem != null && !problem.equals(registryProblem)) {
      logger.warn("Service '{}': {}", config.service(), problem);
    } else if (problem == null && registryProblem != null) {
      logger.info("Service '{}': registry healthy again", config.service());
    }
    registryProblem = problem;
  }

  /**
   * When the cluster last applied a registry update, or had its members confirmed unchanged while
   * it trusted the registry (a ticker reading); the cluster's creation before the first update.
   */
  long registryUpdateNanos() {
    return registryUpdateNanos;
  }

  /** Records that the registry's members were applied or confirmed just now. Serial executor. */
  void registryUpdated() {
    registryUpdateNanos = ticker.read();
  }

  boolean isClosed() {
    return closed;
  }

  /** The registry answered for the first time and the picker reflects it. */
  void firstAnswerArrived() {
    firstAnswer.complete(null);
  }

  boolean hasFirstAnswer() {
    return firstAnswer.isDone();
  }

  // ---- endpoints ----------------------------------------------------------------------------

  Endpoint newEndpoint(ServiceInstance instance, Breaker breaker) {
    Endpoint e =
        new Endpoint(
            instance,
            breaker,
            config.ewmaDecayNanos(),
            config.failurePenaltyNanos(),
            ticker.read());
    var factory = config.resourceFactory();
    if (factory != null) {
      try {
        e.openResource(factory.apply(e));
      } catch (RuntimeException failure) {
        logger.warn(
            "Service '{}': opening the resource of {} failed; its calls will fail",
            config.service(),
            e.address(),
            failure);
      }
    }
    return e;
  }

  /** Takes {@code e} out of the cluster; it is closed once its last in-flight call finishes. */
  void remove(Endpoint e) {
    endpoints.remove(e.key());
    e.markRemoved();
    closeIfIdle(e);
  }

  void closeIfIdle(Endpoint e) {
    if (e.tryClose()) {
      AutoCloseable resource = e.takeResource();
      if (resource != null) {
        try {
          resource.close();
        } catch (Exception failure) {
          logger.warn(
              "Service '{}': closing the resource of {} failed",
              config.service(),
              e.address(),
              failure);
        }
      }
      notifyListener(l -> l.endpointRemoved(e));
    }
  }

  /** Closes every endpoint (each as its in-flight calls finish) and stops rebuilding. */
  void close() {
    closed = true;
    for (Endpoint e : new ArrayList<>(endpoints.values())) {
      remove(e);
    }
    published = ClusterPicker.EMPTY;
    firstAnswer.complete(null);
  }

  void notifyListener(java.util.function.Consumer<ClusterListener> call) {
    try {
      call.accept(config.listener());
    } catch (RuntimeException e) {
      logger.warn("ClusterListener of service '{}' threw; ignored", config.service(), e);
    }
  }

  /**
   * {@code e} recovered from a state that kept it out of traffic (ejection, open breaker, refused
   * connects, Retry-After, a failing check): it re-enters slow start, so it is not flooded at once.
   * Serial executor only.
   */
  void recovered(Endpoint e) {
    if (config.slowStartNanos() > 0) {
      e.startSlowStart(ticker.read());
    }
    rebuild();
  }

  // ---- eligibility and rebuild --------------------------------------------------------------

  /** Asks for a rebuild; callable from any thread. Requests made before it runs coalesce. */
  void requestRebuild() {
    if (rebuildQueued.compareAndSet(false, true)) {
      serial.execute(this::rebuild);
    }
  }

  /** The first reason that keeps {@code e} from traffic, ignoring zone and load. */
  static Eligibility baseEligibility(Endpoint e, long now) {
    ServiceInstance instance = e.instance();
    if (instance.draining()) {
      return Eligibility.DRAINING;
    }
    if (instance.weight() == 0) {
      return Eligibility.ZERO_WEIGHT;
    }
    EndpointHealth h = e.health();
    if (h.breaker.isOpen()) {
      return Eligibility.CIRCUIT_OPEN;
    }
    if (h.backedOffUntilNanos != 0 && now - h.backedOffUntilNanos < 0) {
      return Eligibility.BACKED_OFF;
    }
    if (h.ejected) {
      return Eligibility.EJECTED;
    }
    if (h.checkFailing) {
      return Eligibility.FAILING_HEALTH_CHECK;
    }
    return Eligibility.ELIGIBLE;
  }

  void rebuild() {
    rebuildQueued.set(false);
    if (closed) {
      return;
    }
    long now = ticker.read();
    Endpoint[] members = endpoints.values().toArray(new Endpoint[0]);
    int n = members.length;
    Eligibility[] reasons = new Eligibility[n];
    boolean[] take = new boolean[n];
    int serving = 0;
    int healthy = 0;
    int overridable = 0;
    for (int i = 0; i < n; i++) {
      reasons[i] = baseEligibility(members[i], now);
      if (reasons[i] == Eligibility.ELIGIBLE) {
        healthy++;
      }
      if (reasons[i].isHealthFailure()) {
        overridable++;
      }
      if (reasons[i] == Eligibility.ELIGIBLE || reasons[i].isUnhealthy()) {
        serving++;
      }
    }
    // Panic: with too few healthy members, spread over those that failed a health signal (ejected,
    // failing an active check) rather than melt the few healthy ones (Envoy's panic threshold).
    // Members with an open breaker, refusing connects or backed off by Retry-After stay out even
    // then: calls to them would fail at once, so when nothing else is left a call fails fast.
    boolean panic =
        overridable > 0 && healthy * 100L < (long) config.panicThresholdPercent() * serving;
    for (int i = 0; i < n; i++) {
      take[i] = reasons[i] == Eligibility.ELIGIBLE || (panic && reasons[i].isHealthFailure());
    }
    boolean[] anyZone = take.clone();
    boolean zoneFiltered = !panic && preferLocalZone(members, reasons, take);

    int[] effective = new int[n];
    boolean slowStarting = false;
    for (int i = 0; i < n; i++) {
      effective[i] = effectiveWeight(members[i], now);
      slowStarting |= members[i].inSlowStart();
    }
    ClusterPicker previous = published;
    Candidates candidates = candidates(members, take, effective);
    Picker picker = picker(candidates, previous.picker);
    // When the local zone's candidates are all tried or refused, a retry spills over to the
    // other zones instead of repeating a local endpoint that just failed.
    Candidates spillOverCandidates = zoneFiltered ? candidates(members, anyZone, effective) : null;
    Picker spillOver = picker(spillOverCandidates, previous.spillOver);
    ClusterPicker next =
        new ClusterPicker(
            picker,
            spillOver,
            candidates,
            spillOverCandidates,
            panic,
            members,
            reasons,
            take,
            effective);
    published = next;

    if (panic != previous.panic) {
      logger.warn(
          "Service '{}': panic mode {} ({} of {} members healthy, threshold {}%)",
          config.service(),
          panic ? "ON, ignoring health" : "off",
          healthy,
          serving,
          config.panicThresholdPercent());
    }
    reportEligibilityChanges(previous, next);
    if (slowStarting) {
      scheduleSlowStartTick();
    }
  }

  private @Nullable Picker picker(@Nullable Candidates candidates, @Nullable Picker previous) {
    return candidates == null ? null : config.policy().newPicker(candidates, previous);
  }

  private static @Nullable Candidates candidates(
      Endpoint[] members, boolean[] take, int[] effective) {
    int count = 0;
    for (boolean t : take) {
      count += t ? 1 : 0;
    }
    if (count == 0) {
      return null;
    }
    Endpoint[] chosen = new Endpoint[count];
    int[] weights = new int[count];
    for (int i = 0, j = 0; i < members.length; i++) {
      if (take[i]) {
        chosen[j] = members[i];
        weights[j++] = Math.max(1, effective[i]);
      }
    }
    return Candidates.of(chosen, weights);
  }

  /** Keeps only local-zone members while enough of them are eligible; returns whether it did. */
  private boolean preferLocalZone(Endpoint[] members, Eligibility[] reasons, boolean[] take) {
    String zone = config.localZone();
    if (zone.isEmpty()) {
      return false;
    }
    int localServing = 0;
    int localTaken = 0;
    for (int i = 0; i < members.length; i++) {
      if (zone.equals(members[i].instance().zone())) {
        if (reasons[i] == Eligibility.ELIGIBLE || reasons[i].isUnhealthy()) {
          localServing++;
        }
        if (take[i]) {
          localTaken++;
        }
      }
    }
    boolean localEnough =
        localTaken > 0 && localTaken * 100L >= (long) config.zoneMinHealthyPercent() * localServing;
    if (!localEnough) {
      return false; // spill over to every zone
    }
    boolean dropped = false;
    for (int i = 0; i < members.length; i++) {
      if (take[i] && !zone.equals(members[i].instance().zone())) {
        take[i] = false;
        reasons[i] = Eligibility.OTHER_ZONE;
        dropped = true;
      }
    }
    return dropped;
  }

  /** The registered weight scaled by slow start: from the minimum share to 100% over the window. */
  int effectiveWeight(Endpoint e, long now) {
    int weight = e.instance().weight();
    if (!e.inSlowStart()) {
      return weight;
    }
    long window = config.slowStartNanos();
    long elapsed = now - e.slowStartSinceNanos();
    if (window <= 0 || elapsed >= window) {
      e.endSlowStart();
      return weight;
    }
    double min = config.slowStartMinPercent() / 100.0;
    double factor = min + (1 - min) * Math.max(0, elapsed) / window;
    return Math.max(1, (int) Math.round(weight * factor));
  }

  private void scheduleSlowStartTick() {
    if (slowStartTickScheduled) {
      return;
    }
    slowStartTickScheduled = true;
    long step = Math.max(config.slowStartNanos() / 20, 10_000_000L);
    timer.schedule(
        () ->
            serial.execute(
                () -> {
                  slowStartTickScheduled = false;
                  requestRebuild();
                }),
        step);
  }

  private void reportEligibilityChanges(ClusterPicker previous, ClusterPicker next) {
    if (config.listener() == ClusterListener.NONE && !logger.isInfoEnabled()) {
      return;
    }
    Map<Endpoint, Eligibility> was = new IdentityHashMap<>(previous.members.length * 2);
    for (int i = 0; i < previous.members.length; i++) {
      was.put(previous.members[i], previous.reasons[i]);
    }
    for (int i = 0; i < next.members.length; i++) {
      Endpoint e = next.members[i];
      Eligibility before = was.get(e);
      Eligibility after = next.reasons[i];
      if (before != null && before != after) {
        logger.info(
            "Service '{}': {} is now {} (was {})",
            config.service(),
            e.address(),
            after.description(),
            before.description());
        notifyListener(l -> l.eligibilityChanged(e, before, after));
      }
    }
  }

  // ---- snapshots ----------------------------------------------------------------------------

  List<EndpointSnapshot> endpointSnapshots() {
    ClusterPicker p = published;
    long now = ticker.read();
    List<EndpointSnapshot> list = new ArrayList<>(p.members.length);
    for (int i = 0; i < p.members.length; i++) {
      Endpoint e = p.members[i];
      EndpointHealth h = e.health();
      Eligibility reason = p.reasons[i];
      if (reason == Eligibility.ELIGIBLE && e.inFlight() >= config.maxInFlightPerEndpoint()) {
        reason = Eligibility.SATURATED;
      }
      long ejectedFor = h.ejected ? Math.max(0, h.ejectedUntilNanos - now) : 0;
      list.add(
          new EndpointSnapshot(
              e.instance(),
              p.effectiveWeights[i],
              e.inFlight(),
              e.latencyNanos(now) / 1e6,
              h.breaker.state(),
              java.time.Duration.ofNanos(ejectedFor),
              e.calls(),
              e.failures(),
              reason,
              p.receivesTraffic[i],
              e.inSlowStart()));
    }
    return list;
  }

  @Override
  public String toString() {
    return "ClusterState{" + config.service() + ", " + Arrays.toString(published.members) + "}";
  }
}
