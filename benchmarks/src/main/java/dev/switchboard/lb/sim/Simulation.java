package dev.switchboard.lb.sim;

import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.Prequal;
import dev.switchboard.lb.SeededPolicies;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.TestEndpoints;
import dev.switchboard.lb.sim.EventQueue.Event;
import dev.switchboard.lb.sim.EventQueue.Kind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;
import org.HdrHistogram.Histogram;

/*
 * One run: K clients × N servers in virtual time
 * ==============================================
 * A discrete-event simulation: no sockets, no threads, no wall clock. Time is a long of virtual
 * nanoseconds that jumps from one event to the next (EventQueue: by time, then by scheduling
 * order). Each call is picked by the production picker of its client's view (Client), which sees
 * that client's real Endpoint objects: the pick raises the endpoint's in-flight count and the reply
 * lowers it and records the latency, as Lease does, so least connections sees real in-flight counts
 * and peak EWMA real latencies, both as one client sees them.
 *
 * Workload. Each client is an open-loop Poisson source at 1/K of the offered rate (utilisation ×
 * nominal capacity, capacity = N × workers / mean service time); it issues its share of the
 * requests and stops. A call's base service time is drawn when it is issued; the server it lands
 * on multiplies it by its slowdown (the slow server's factor, else 1). Servers are FIFO queues with
 * c workers (Server); the reply reaches the client the moment a worker finishes (no network time).
 * With --timeout-ms the client gives up at the deadline: the call completes as TIMEOUT on its
 * endpoint (which counts it at least at the failure penalty, as a Lease would), the server still
 * serves it, unaware, and the late reply is dropped. Every call completes exactly once either way.
 *
 * Randomness. One seed, split into independent SplittableRandom streams: one workload stream per
 * client (arrivals, service times, hash keys, drawn in a fixed order per call), one for registry
 * delays, one picker stream per client. The workload and registry streams do not depend on the
 * policy, so every policy of a scenario faces the very same calls (common random numbers) and only
 * the routing differs; the scenario is mixed into the seed.
 *
 * Probes (Prequal). A client's Prequal picker sends its probes through the client's prober: the
 * probe reaches its server half a probe delay later (PROBE), which answers with its LoadTracker's
 * requests in flight and latency at that load, and the answer reaches the client's pool half a
 * delay after that (PROBE_REPLY). Probes cost the servers nothing here; the real cost per probe is
 * measured on real servers, not simulated.
 *
 * Antagonists. Every antagonist period (from t = 0) each server's speed is drawn again from its own
 * stream (independent of the policy): a one-in-three chance of a slowdown uniform in [1.5, 4], else
 * full speed. A request in service keeps the speed it started with. The offered load is computed
 * against the capacity the antagonists leave on average (Scenario.capacityFactor, about 80%).
 *
 * Registry. Membership changes happen at registry level (the flapping server deregisters and
 * re-registers; the scale-out servers register) and reach each client after its own uniform delay
 * of up to registryDelay, in order per client (a watch delivers in order). Clients rebuild their
 * pickers on delivery. A server that left the registry keeps serving what it was sent.
 */

/** Runs one scenario under one policy. Not thread-safe; use once. */
final class Simulation {
  static final int BASE_PORT = 10_000;
  private static final long SECOND = 1_000_000_000L;

  private final SimConfig config;
  private final Scenario scenario;
  private final String policy;
  private final EventQueue events = new EventQueue();
  private final Histogram latencies = new Histogram(3);
  private final List<Endpoint> created = new ArrayList<>();

  private final int initialServers;
  private final ServiceInstance[] instances;
  private final Server[] servers;
  private final boolean[] registered;
  private final Client[] clients;
  private final SplittableRandom registryRandom;
  private final SplittableRandom antagonistRandom;
  private final boolean keyed;
  private final double serviceMeanNanos;
  private final double interarrivalMeanNanos;
  private final long expectedNanos;
  private final long scaleOutNanos;
  private final long timeoutNanos;

  private final long[] picked;
  private final long[] pickedAfterScaleOut;
  private long pickedFirstSecond;
  private long pickedFirstSecondNew;

  private long now;
  private long issued;
  private long completed;
  private long timedOut;
  private long finishedAfterLeaving;
  private long probes;

  Simulation(SimConfig config, Scenario scenario, String policy) {
    this.config = config;
    this.scenario = scenario;
    this.policy = policy;
    this.initialServers = config.servers();
    int total = scenario == Scenario.SCALE_OUT ? 2 * initialServers : initialServers;
    this.instances = new ServiceInstance[total];
    this.servers = new Server[total];
    this.registered = new boolean[total];
    for (int s = 0; s < total; s++) {
      instances[s] =
          ServiceInstance.builder("sim", "127.0.0.1", BASE_PORT + s).id("server-" + s).build();
      double slowdown = scenario == Scenario.SLOW && s == 0 ? config.slowFactor() : 1.0;
      servers[s] = new Server(config.workers(), slowdown);
      registered[s] = s < initialServers;
    }
    this.picked = new long[total];
    this.pickedAfterScaleOut = new long[total];
    this.keyed = policy.equals("consistent_hash");

    this.serviceMeanNanos = config.serviceMeanMillis() * 1e6;
    double capacityPerSecond =
        initialServers * config.workers() * (SECOND / serviceMeanNanos) * scenario.capacityFactor();
    double ratePerSecond = config.utilisation() * capacityPerSecond;
    this.interarrivalMeanNanos = SECOND * config.clients() / ratePerSecond;
    this.expectedNanos = Math.round(config.requests() / ratePerSecond * SECOND);
    this.scaleOutNanos = expectedNanos / 2;
    this.timeoutNanos = Math.round(config.timeoutMillis() * 1e6);

    SplittableRandom root =
        new SplittableRandom(config.seed() + 0x9E3779B97F4A7C15L * (scenario.ordinal() + 1));
    SplittableRandom[] workloads = new SplittableRandom[config.clients()];
    for (int c = 0; c < workloads.length; c++) {
      workloads[c] = root.split();
    }
    this.registryRandom = root.split();
    SplittableRandom pickerRoot = root.split();
    this.antagonistRandom = root.split();
    this.clients = new Client[config.clients()];
    for (int c = 0; c < clients.length; c++) {
      SplittableRandom pickerRandom = pickerRoot.split();
      int client = c;
      Prequal.Prober prober = (endpoint, replies) -> sendProbe(client, endpoint, replies);
      clients[c] =
          new Client(
              c, SeededPolicies.of(policy, pickerRandom::nextLong, prober), workloads[c], total);
      clients[c].remaining =
          config.requests() / config.clients() + (c < config.requests() % config.clients() ? 1 : 0);
    }
  }

  /**
   * Runs to the last reply.
   *
   * @throws IllegalStateException if a call completes twice or the counts do not add up
   */
  RunResult run() {
    for (Client c : clients) {
      c.apply(registered, instances, 0, created);
      if (c.remaining > 0) {
        events.schedule(nextArrival(c), Kind.ARRIVAL, c.index, null, null);
      }
    }
    switch (scenario) {
      case FLAPPING ->
          events.schedule(flapPeriodNanos(), Kind.FLAP, initialServers - 1, null, null);
      case SCALE_OUT -> events.schedule(scaleOutNanos, Kind.SCALE_OUT, 0, null, null);
      case ANTAGONISTS -> events.schedule(0, Kind.ANTAGONISTS, 0, null, null);
      default -> {}
    }
    for (Event e = events.poll(); e != null; e = events.poll()) {
      now = e.time;
      switch (e.kind) {
        case ARRIVAL -> arrive(clients[e.index]);
        case SERVICE_DONE -> serviceDone(e.index, Objects.requireNonNull(e.request));
        case TIMEOUT -> timeout(Objects.requireNonNull(e.request));
        case DELIVERY ->
            clients[e.index].apply(Objects.requireNonNull(e.members), instances, now, created);
        case FLAP -> flap(e.index);
        case SCALE_OUT -> scaleOut();
        case ANTAGONISTS -> moveAntagonists();
        case PROBE -> answerProbe(Objects.requireNonNull(e.probe));
        case PROBE_REPLY -> {
          ProbeTrip trip = Objects.requireNonNull(e.probe);
          trip.replies.accept(trip.endpoint, trip.requestsInFlight, trip.latencyNanos, now);
        }
      }
    }
    return result();
  }

  private void arrive(Client client) {
    long base = config.serviceTime().sample(client.workload, serviceMeanNanos);
    long key = client.workload.nextLong();
    long gap = nextArrival(client);

    CallContext ctx = keyed ? CallContext.builder().hashKey(key).build() : CallContext.DEFAULT;
    PickResult pick = client.picker().pick(ctx, now);
    Endpoint endpoint = pick.endpoint();
    int s = endpoint.instance().port() - BASE_PORT;
    TestEndpoints.hold(endpoint, 1);
    Request request = new Request(client.index, now, base, endpoint, s);
    issued++;
    count(s);

    Server server = servers[s];
    if (server.accept(request, now)) {
      events.schedule(now + server.serviceNanos(request), Kind.SERVICE_DONE, s, request, null);
    }
    if (timeoutNanos > 0) {
      events.schedule(now + timeoutNanos, Kind.TIMEOUT, s, request, null);
    }
    if (--client.remaining > 0) {
      events.schedule(now + gap, Kind.ARRIVAL, client.index, null, null);
    }
  }

  private long nextArrival(Client client) {
    return Math.round(ServiceTime.exponential(client.workload) * interarrivalMeanNanos);
  }

  private void count(int s) {
    picked[s]++;
    if (scenario == Scenario.SCALE_OUT && now >= scaleOutNanos) {
      if (now < scaleOutNanos + SECOND) {
        pickedFirstSecond++;
        pickedFirstSecondNew += s >= initialServers ? 1 : 0;
      } else {
        pickedAfterScaleOut[s]++;
      }
    }
  }

  private void serviceDone(int s, Request request) {
    if (request.served) {
      throw new IllegalStateException("server " + s + " served a call twice");
    }
    request.served = true;
    Server server = servers[s];
    Request next = server.finish(request, now);
    if (next != null) {
      events.schedule(now + server.serviceNanos(next), Kind.SERVICE_DONE, s, next, null);
    }
    if (!request.completed) {
      complete(request, Outcome.SUCCESS); // else the client gave up: the reply goes nowhere
    }
  }

  private void timeout(Request request) {
    if (!request.completed) {
      timedOut++;
      complete(request, Outcome.TIMEOUT); // the server still works on it, unaware
    }
  }

  /** The reply (or the deadline) reaches the client: what Lease.complete does to the endpoint. */
  private void complete(Request request, Outcome outcome) {
    if (request.completed) {
      throw new IllegalStateException("a call to server " + request.server + " completed twice");
    }
    request.completed = true;
    completed++;
    long latency = now - request.startNanos;
    TestEndpoints.releaseHeld(request.endpoint, 1);
    TestEndpoints.record(request.endpoint, outcome, latency, now);
    latencies.recordValue(latency);
    if (!clients[request.client].holds(request.server, request.endpoint)) {
      finishedAfterLeaving++;
    }
  }

  private void sendProbe(int client, Endpoint endpoint, Prequal.Replies replies) {
    probes++;
    int s = endpoint.instance().port() - BASE_PORT;
    events.schedule(
        now + probeHalfTripNanos(), Kind.PROBE, s, new ProbeTrip(client, s, endpoint, replies));
  }

  private void answerProbe(ProbeTrip trip) {
    Prequal.LoadTracker tracker = servers[trip.server].tracker;
    trip.requestsInFlight = tracker.requestsInFlight();
    trip.latencyNanos = tracker.latencyNanos(now);
    events.schedule(now + probeHalfTripNanos(), Kind.PROBE_REPLY, trip.client, trip);
  }

  private long probeHalfTripNanos() {
    return Math.round(config.probeDelayMillis() * 1e6 / 2);
  }

  private void moveAntagonists() {
    for (Server server : servers) {
      boolean neighbour = antagonistRandom.nextDouble() < Scenario.ANTAGONIST_CHANCE;
      double factor =
          Scenario.ANTAGONIST_MIN
              + (Scenario.ANTAGONIST_MAX - Scenario.ANTAGONIST_MIN) * antagonistRandom.nextDouble();
      server.slowdown(neighbour ? factor : 1.0);
    }
    if (issued < config.requests()) {
      long period = Math.max(1, Math.round(config.antagonistPeriodSeconds() * SECOND));
      events.schedule(now + period, Kind.ANTAGONISTS, 0, null, null);
    }
  }

  private long flapPeriodNanos() {
    return Math.max(1, Math.round(config.flapPeriodSeconds() * SECOND));
  }

  private void flap(int s) {
    registered[s] = !registered[s];
    publish();
    if (issued < config.requests()) {
      events.schedule(now + flapPeriodNanos(), Kind.FLAP, s, null, null);
    }
  }

  private void scaleOut() {
    for (int s = initialServers; s < registered.length; s++) {
      registered[s] = true;
    }
    publish();
  }

  /** The registry's new snapshot goes out to every client, each after its own delay. */
  private void publish() {
    boolean[] snapshot = registered.clone();
    double maxDelayNanos = config.registryDelayMillis() * 1e6;
    for (Client c : clients) {
      long delay = Math.round(registryRandom.nextDouble() * maxDelayNanos);
      long at = Math.max(now + delay, c.lastDelivery);
      c.lastDelivery = at;
      events.schedule(at, Kind.DELIVERY, c.index, null, snapshot);
    }
  }

  private RunResult result() {
    long served = 0;
    for (Server s : servers) {
      served += s.served();
    }
    long inFlight = 0;
    for (Endpoint e : created) {
      inFlight += e.inFlight();
    }
    if (issued != config.requests()
        || completed != issued
        || served != completed
        || inFlight != 0) {
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "%s/%s: %d requested, %d issued, %d completed, %d served, %d left in flight",
              scenario.label(),
              policy,
              config.requests(),
              issued,
              completed,
              served,
              inFlight));
    }

    long[] counts = scenario == Scenario.SCALE_OUT ? pickedAfterScaleOut : picked;
    int from = scenario == Scenario.SLOW ? 1 : 0;
    int to = scenario == Scenario.FLAPPING ? initialServers - 1 : counts.length;
    double max = 0;
    double min = Double.MAX_VALUE;
    double sum = 0;
    double sumSquares = 0;
    for (int s = from; s < to; s++) {
      max = Math.max(max, counts[s]);
      min = Math.min(min, counts[s]);
      sum += counts[s];
      sumSquares += (double) counts[s] * counts[s];
    }
    int n = to - from;
    double mean = sum / n;
    double variance = Math.max(0, sumSquares / n - mean * mean);
    double cv = mean == 0 ? Double.NaN : Math.sqrt(variance) / mean;
    double maxMin = min == 0 ? Double.POSITIVE_INFINITY : max / min;

    double slowShare = scenario == Scenario.SLOW ? (double) picked[0] / issued : Double.NaN;
    double flapperShare =
        scenario == Scenario.FLAPPING ? (double) picked[initialServers - 1] / issued : Double.NaN;
    double newShare =
        scenario == Scenario.SCALE_OUT && pickedFirstSecond > 0
            ? (double) pickedFirstSecondNew / pickedFirstSecond
            : Double.NaN;
    return new RunResult(
        scenario,
        policy,
        config.utilisation(),
        latencies.getValueAtPercentile(50.0),
        latencies.getValueAtPercentile(99.0),
        latencies.getValueAtPercentile(99.9),
        latencies.getMaxValue(),
        maxMin,
        cv,
        slowShare,
        flapperShare,
        newShare,
        probes,
        issued,
        completed,
        timedOut,
        served,
        finishedAfterLeaving,
        inFlight,
        created.size(),
        now,
        events.processed());
  }
}
