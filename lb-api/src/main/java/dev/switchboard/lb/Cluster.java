package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickArgs;
import dev.switchboard.lb.BalancingPolicy.Picker;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.ratelimiter.RateLimiter;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The client-side balancer for one service: watches the service's members in a {@link
 * ServiceRegistry}, keeps each member's load and health, and picks an endpoint per call.
 *
 * <pre>{@code
 * Cluster cluster = Cluster.builder("echo").registry(registry).build();
 * try (Lease lease = cluster.acquire()) {
 *   call(lease.instance());
 *   lease.complete(Outcome.SUCCESS);
 * }
 * }</pre>
 *
 * <p>Thread-safe. {@link #acquire} takes no lock and, for the pick itself, allocates nothing: it
 * reads an immutable picker that the cluster rebuilds on its own serial executor whenever
 * membership or health changes.
 */
public final class Cluster implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(Cluster.class);

  private final ClusterConfig config;
  private final String service;
  private final Ticker ticker;
  private final Scheduler timer;
  private final boolean ownsTimer;
  private final SerialExecutor serial = new SerialExecutor();
  private final ClusterState state;
  private final Membership membership;
  private final OutlierDetector outliers;
  private final BackoffTracker backoffs;
  private final Hedges hedges;
  private final Admission admission;
  private final @Nullable HealthChecker healthChecker;
  private final RetryBudget budget;
  private final @Nullable RateLimiter rateLimiter;
  private final int maxInFlight;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final AddedListeners addedListeners;
  private final List<ClusterListener> builderListeners;
  // NONE unless a listener hears calls; changed on the serial executor, read once per acquire.
  private volatile CallListener callListener;
  private volatile @Nullable Subscription subscription;
  // Start-up: until the registry's first answer or startupEndsNanos, calls wait for members.
  private final long startupEndsNanos;
  private final CompletableFuture<Void> ready = new CompletableFuture<>();

  private Cluster(
      ClusterConfig config, AddedListeners addedListeners, List<ClusterListener> builderListeners) {
    this.config = config;
    this.addedListeners = addedListeners;
    this.builderListeners = List.copyOf(builderListeners);
    this.callListener = CallListeners.of(this.builderListeners);
    this.service = config.service();
    this.ticker = config.ticker();
    this.ownsTimer = config.timer() == null;
    this.timer = ownsTimer ? new SystemScheduler("switchboard-" + service) : config.timer();
    this.state = new ClusterState(config, serial, timer);
    this.membership = new Membership(state, breakerConfig(config));
    this.outliers = new OutlierDetector(state);
    this.backoffs = new BackoffTracker(state);
    this.hedges = new Hedges(service, ticker);
    this.budget =
        new RetryBudget(
            ticker,
            config.retryPolicy().budgetPercent(),
            config.retryPolicy().minRetriesPerSecond());
    this.rateLimiter =
        config.rateLimit() == null
            ? null
            : RateLimiter.of("switchboard-" + service, config.rateLimit(), ticker::read);
    this.maxInFlight = config.maxInFlightPerEndpoint();
    this.admission = new Admission(this, state, serial, outliers, maxInFlight);
    this.healthChecker =
        config.healthCheck() == null
            ? null
            : new HealthChecker(state, config.healthCheck(), outliers);
    long wait = config.firstMembersWaitNanos();
    this.startupEndsNanos = ticker.read() + wait;
    state.firstAnswer.thenRun(() -> ready.complete(null));
    if (wait > 0) {
      timer.schedule(() -> ready.complete(null), wait);
    } else {
      ready.complete(null);
    }
    subscribe(1);
    if (healthChecker != null) {
      healthChecker.start();
    }
  }

  private static @Nullable CircuitBreakerConfig breakerConfig(ClusterConfig config) {
    CircuitBreakerConfig c = config.breakerConfig();
    if (c == null || config.breakerClock() == null) {
      return c;
    }
    return CircuitBreakerConfig.from(c).clock(config.breakerClock()).build();
  }

  /** Starts a cluster for {@code service}. */
  public static Builder builder(String service) {
    return new Builder(service);
  }

  private void subscribe(int attempt) {
    if (closed.get()) {
      return;
    }
    try {
      subscription = config.registry().watch(service, membership);
    } catch (RuntimeException e) {
      long delay = Math.min(30_000L, 500L << Math.min(attempt, 6));
      logger.warn(
          "Service '{}': watching the registry failed (attempt {}); retrying in {} ms",
          service,
          attempt,
          delay,
          e);
      membership.onError(e);
      timer.schedule(() -> subscribe(attempt + 1), TimeUnit.MILLISECONDS.toNanos(delay));
    }
  }

  /** The service this cluster balances. */
  public String service() {
    return service;
  }

  /** The ticker leases measure latency with; use it for {@link CallContext} deadlines. */
  public Ticker ticker() {
    return ticker;
  }

  /** The balancing policy's name, such as {@code "round_robin"}. */
  String policyName() {
    return config.policy().name();
  }

  /** The retry policy the call engine follows. */
  public RetryPolicy retryPolicy() {
    return config.retryPolicy();
  }

  /** Acquires an endpoint for a call that carries no key, deadline or idempotence. */
  public Lease acquire() {
    return acquire(CallContext.DEFAULT);
  }

  /**
   * Picks an endpoint for one call (or one attempt of it) and raises its in-flight count.
   *
   * @throws NoHealthyEndpointException if no endpoint is eligible, or every eligible one is at its
   *     in-flight limit (the bulkhead fails fast rather than queue)
   * @throws RateLimitedException if the cluster's rate limit refuses the call
   * @throws DeadlineExceededException if the call's deadline has passed
   * @throws IllegalStateException if the cluster is closed
   */
  public Lease acquire(CallContext ctx) {
    return acquire(ctx, ctx.deadlineNanos(), false);
  }

  /**
   * Starts a logical call: run it with {@link Call#run} (blocking) or {@link Call#runAsync}, and
   * the engine makes its attempts, retries and hedges.
   */
  public Call newCall(CallContext ctx) {
    return new Call(this, Objects.requireNonNull(ctx, "ctx"));
  }

  /** Acquires for one attempt of a call, avoiding what {@code args} excludes while it can. */
  Lease acquire(PickArgs args, long attemptDeadlineNanos, boolean cancellable) {
    CallContext ctx = args.context();
    if (closed.get()) {
      throw new IllegalStateException("cluster '" + service + "' is closed");
    }
    if (rateLimiter != null && !rateLimiter.acquirePermission()) {
      throw new RateLimitedException(
          "call to service '"
              + service
              + "' refused by the client-side rate limit ("
              + rateLimiter.getRateLimiterConfig().getLimitForPeriod()
              + " per "
              + rateLimiter.getRateLimiterConfig().getLimitRefreshPeriod()
              + ")");
    }
    long now = ticker.read();
    if (now - ctx.deadlineNanos() >= 0 && ctx.deadlineNanos() != Long.MAX_VALUE) {
      throw new DeadlineExceededException(
          "deadline of a call to service '" + service + "' passed before an endpoint was picked");
    }
    ClusterPicker published = state.published();
    Picker picker = published.picker;
    if (picker == null) {
      published = awaitFirstMembers(published, ctx, now);
      picker = published.picker;
      if (picker == null) {
        throw noHealthyEndpoint(published);
      }
      now = ticker.read();
    }
    return admission.admit(published, picker, args, now, attemptDeadlineNanos, cancellable);
  }

  /**
   * A call made before the registry's first answer waits for it (like gRPC's calls before the first
   * name resolution), within {@link Builder#firstMembersWait} of the cluster's start and never past
   * the call's deadline. Afterwards an empty cluster fails calls at once.
   */
  private ClusterPicker awaitFirstMembers(ClusterPicker published, CallContext ctx, long now) {
    if (published.members.length > 0 || ready.isDone()) {
      return published;
    }
    long wait = startupEndsNanos - now;
    if (ctx.deadlineNanos() != Long.MAX_VALUE) {
      wait = Math.min(wait, ctx.deadlineNanos() - now);
    }
    if (wait > 0) {
      try {
        ready.get(wait, TimeUnit.NANOSECONDS);
      } catch (TimeoutException | ExecutionException e) {
        // fail below with what is known
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return state.published();
  }

  /**
   * Whether the start-up is over: the registry has answered (with members, none, or an error), or
   * {@link Builder#firstMembersWait} has passed since the cluster was built, or it was closed.
   * Until then {@link #acquire} on an empty cluster waits for members; asynchronous callers wait on
   * {@link #whenReady} instead of blocking.
   */
  public boolean isReady() {
    return ready.isDone();
  }

  /** Completes when {@link #isReady} becomes true; never completes exceptionally. */
  public CompletionStage<Void> whenReady() {
    return ready.minimalCompletionStage();
  }

  private NoHealthyEndpointException noHealthyEndpoint(ClusterPicker published) {
    String problem = state.registryProblem();
    String detail =
        published.members.length == 0
            ? "no members known"
                + (problem == null ? "" : " (" + problem + ")")
                + (state.hasFirstAnswer()
                    ? ""
                    : " (the registry has not answered yet; waited up to "
                        + Duration.ofNanos(config.firstMembersWaitNanos())
                        + ")")
            : "none of its " + published.members.length + " members is eligible";
    return new NoHealthyEndpointException(service, detail, state.endpointSnapshots());
  }

  /** Called by {@link Lease} exactly once per lease. */
  void finish(Lease lease, Outcome outcome, long latencyNanos, long nowNanos) {
    CallListener calls = lease.callListener();
    if (calls != CallListener.NONE) {
      // Before the release below, so the endpoint cannot have left the cluster yet.
      long latency =
          outcome == Outcome.CANCELLED ? ticker.read() - lease.startNanos() : latencyNanos;
      calls.callFinished(lease, outcome, latency);
    }
    finish(lease.endpoint(), outcome, latencyNanos, nowNanos, lease.isProbe());
  }

  /** Records a finished call on {@code e} (tests call it without a lease). */
  void finish(Endpoint e, Outcome outcome, long latencyNanos, long nowNanos, boolean probe) {
    admission.release(e, outcome, latencyNanos, nowNanos, probe);
  }

  /** How many endpoints calls may be sent to now (in every zone). */
  int candidateCount() {
    ClusterPicker p = state.published();
    Candidates c = p.spillOverCandidates != null ? p.spillOverCandidates : p.candidates;
    return c == null ? 0 : c.size();
  }

  /** Records one logical call in the retry budget (once per call, whatever its attempts). */
  void depositCall() {
    budget.deposit(ticker.read());
  }

  /** Takes one retry from the budget; false when it is spent. */
  boolean withdrawRetry() {
    return budget.tryWithdraw();
  }

  /** Keeps {@code e} out of new calls for {@code nanos} (Retry-After). */
  void backOff(Endpoint e, long nanos) {
    serial.execute(() -> backoffs.backOff(e, nanos));
  }

  /** The scheduler of this cluster's timed state, retries and hedges. */
  Scheduler scheduler() {
    return timer;
  }

  /** Watches a hedgeable attempt until it settles or its hedge is due. */
  void watchForHedge(HedgeWatch.Watched call) {
    hedges.watch(call);
  }

  /** Runs a hedge (a blocking attempt, or an asynchronous one's start) on a hedge thread. */
  void runHedge(Runnable hedge) {
    hedges.run(hedge);
  }

  /** Every member now, with its load, health and why it is or is not eligible. */
  public ClusterSnapshot snapshot() {
    String problem = state.registryProblem();
    return new ClusterSnapshot(
        service,
        config.policy().name(),
        problem != null,
        Optional.ofNullable(problem),
        Duration.ofNanos(Math.max(0, ticker.read() - state.registryUpdateNanos())),
        state.published().panic,
        state.endpointSnapshots());
  }

  /**
   * Stops watching the registry and health-checking; members are released (and {@link
   * ClusterListener#endpointRemoved} called) as their in-flight calls finish. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    Subscription s = subscription;
    if (s != null) {
      try {
        s.close();
      } catch (RuntimeException e) {
        logger.warn("Service '{}': closing the registry watch failed", service, e);
      }
    }
    if (healthChecker != null) {
      healthChecker.close();
    }
    serial.execute(state::close);
    hedges.close();
    if (ownsTimer) {
      ((SystemScheduler) timer).close();
    }
  }

  /**
   * Adds a listener to a running cluster, for bindings that attach after {@link Builder#build}
   * (metrics, say). On the cluster's serial executor, {@code listener} first hears {@link
   * ClusterListener#endpointAdded} for every current member, then every later change, so it misses
   * no member and hears none added twice. That replay may run on another thread and finish after
   * this method returns. Listeners added here are called after the builder's, in the order added.
   *
   * <p>If {@code listener} is also a {@link CallListener}, it hears the calls whose leases are
   * acquired after the replay.
   */
  public void addListener(ClusterListener listener) {
    Objects.requireNonNull(listener, "listener");
    serial.execute(
        () -> {
          addedListeners.add(listener);
          for (Endpoint e : new ArrayList<>(state.endpoints.values())) {
            state.notifyListener(l -> listener.endpointAdded(e));
          }
          updateCallListener();
        });
  }

  /**
   * Stops calling a listener added with {@link #addListener}, once the serial executor's pending
   * tasks have run; does nothing if it was not added.
   */
  public void removeListener(ClusterListener listener) {
    Objects.requireNonNull(listener, "listener");
    serial.execute(
        () -> {
          addedListeners.remove(listener);
          updateCallListener();
        });
  }

  /** The call listeners now; read once per acquire. */
  CallListener callListener() {
    return callListener;
  }

  /** Serial executor only. */
  private void updateCallListener() {
    List<ClusterListener> all = new ArrayList<>(builderListeners);
    all.addAll(addedListeners.listeners);
    callListener = CallListeners.of(all);
  }

  /** Runs {@code task} on the cluster's serial executor (tests and integrations). */
  void executeSerially(Runnable task) {
    serial.execute(task);
  }

  @Override
  public String toString() {
    return "Cluster{" + service + ", " + config.policy().name() + "}";
  }

  /**
   * Configures a {@link Cluster}; each setter validates its value at once. Not thread-safe.
   * Defaults: least connections; a breaker per endpoint opening at 50% of the last 20 calls failed
   * and probing after 5 s; outlier ejection after 5 consecutive failures; no active health check;
   * no slow start; panic below 50% healthy; retries per {@link RetryPolicy#defaults()}; 1024 calls
   * in flight per endpoint; no rate limit; mass-removal guard at 50% held for 60 s; updates
   * debounced by 20 ms.
   */
  public static final class Builder {
    /**
     * Per-endpoint breaker tuned for balancing rather than for one downstream: opens when half of
     * the last 20 calls (at least 10) failed, probes after 5 s with 3 calls.
     */
    private static final CircuitBreakerConfig DEFAULT_BREAKER =
        CircuitBreakerConfig.custom()
            .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
            .slidingWindowSize(20)
            .minimumNumberOfCalls(10)
            .failureRateThreshold(50)
            .waitDurationInOpenState(Duration.ofSeconds(5))
            .permittedNumberOfCallsInHalfOpenState(3)
            // Resilience4j's synchronized window: its LOCK_FREE one allocated ~208 B per recorded
            // call in AcquireReleaseBenchmark, for no gain on one thread.
            .build();

    private final String service;
    private @Nullable ServiceRegistry registry;
    private BalancingPolicy policy = BalancingPolicy.leastConnections();
    private String localZone = ServiceInstance.NO_ZONE;
    private int zoneMinHealthyPercent = 70;
    private @Nullable CircuitBreakerConfig breakerConfig = DEFAULT_BREAKER;
    private OutlierDetection outlierDetection = OutlierDetection.defaults();
    private @Nullable ActiveHealthCheck healthCheck;
    private Duration slowStart = Duration.ZERO;
    private int slowStartMinPercent = 10;
    private int panicThresholdPercent = 50;
    private RetryPolicy retryPolicy = RetryPolicy.defaults();
    private int maxInFlightPerEndpoint = 1024;
    private @Nullable RateLimiterConfig rateLimit;
    private int massRemovalPercent = 50;
    private Duration massRemovalHold = Duration.ofSeconds(60);
    private Duration updateDebounce = Duration.ofMillis(20);
    private Duration firstMembersWait = Duration.ofSeconds(10);
    private Duration ewmaDecay = Endpoint.DEFAULT_DECAY_WINDOW;
    private Duration failurePenalty = Duration.ofSeconds(1);
    private final List<ClusterListener> listeners = new ArrayList<>();
    private Ticker ticker = Ticker.system();
    private @Nullable Scheduler timer;
    private @Nullable Clock breakerClock;
    private @Nullable Function<? super Endpoint, ? extends AutoCloseable> resourceFactory;

    private Builder(String service) {
      if (service == null || service.isBlank()) {
        throw new IllegalArgumentException("service must not be blank but was '" + service + "'");
      }
      this.service = service;
    }

    /** Where the cluster learns its members; required. */
    public Builder registry(ServiceRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    public Builder policy(BalancingPolicy policy) {
      this.policy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * Prefers members in {@code zone} while at least {@code minHealthyPercent} of that zone's
     * members are eligible; below that, calls spill over to every zone.
     */
    public Builder localZone(String zone, int minHealthyPercent) {
      Objects.requireNonNull(zone, "zone");
      requirePercent("minHealthyPercent", minHealthyPercent);
      this.localZone = zone;
      this.zoneMinHealthyPercent = minHealthyPercent;
      return this;
    }

    /** Prefers members in {@code zone} while at least 70% of them are eligible. */
    public Builder localZone(String zone) {
      return localZone(zone, 70);
    }

    /** The per-endpoint circuit breaker's settings (Resilience4j). */
    public Builder circuitBreaker(CircuitBreakerConfig config) {
      this.breakerConfig = Objects.requireNonNull(config, "config");
      return this;
    }

    /** Turns per-endpoint circuit breakers off. */
    public Builder disableCircuitBreaker() {
      this.breakerConfig = null;
      return this;
    }

    public Builder outlierDetection(OutlierDetection outlierDetection) {
      this.outlierDetection = Objects.requireNonNull(outlierDetection, "outlierDetection");
      return this;
    }

    public Builder healthCheck(ActiveHealthCheck healthCheck) {
      this.healthCheck = Objects.requireNonNull(healthCheck, "healthCheck");
      return this;
    }

    /**
     * Ramps a new or recovered endpoint's weight from {@code minPercent}% to 100% over {@code
     * window}, measured from when this client first saw it (or saw it recover); zero disables.
     */
    public Builder slowStart(Duration window, int minPercent) {
      requireNotNegative("slowStart window", window);
      if (minPercent < 1 || minPercent > 100) {
        throw new IllegalArgumentException(
            "slow start minPercent must be between 1 and 100 but was " + minPercent);
      }
      this.slowStart = window;
      this.slowStartMinPercent = minPercent;
      return this;
    }

    /** Ramps weights from 10% to 100% over {@code window}. */
    public Builder slowStart(Duration window) {
      return slowStart(window, 10);
    }

    /**
     * Below {@code percent}% of members healthy, health is ignored and calls spread over every
     * member (Envoy's panic threshold); 0 disables.
     */
    public Builder panicThreshold(int percent) {
      requirePercent("panicThreshold", percent);
      this.panicThresholdPercent = percent;
      return this;
    }

    public Builder retryPolicy(RetryPolicy retryPolicy) {
      this.retryPolicy = Objects.requireNonNull(retryPolicy, "retryPolicy");
      return this;
    }

    /** The most calls in flight to one endpoint (a bulkhead); further calls go elsewhere. */
    public Builder maxInFlightPerEndpoint(int max) {
      if (max < 1) {
        throw new IllegalArgumentException(
            "maxInFlightPerEndpoint must be at least 1 but was " + max);
      }
      this.maxInFlightPerEndpoint = max;
      return this;
    }

    /**
     * Limits the calls this client starts (Resilience4j). Over the limit, {@link #acquire} waits up
     * to the config's timeout, then throws {@link RateLimitedException}.
     */
    public Builder rateLimit(RateLimiterConfig config) {
      this.rateLimit = Objects.requireNonNull(config, "config");
      return this;
    }

    /**
     * An update removing more than {@code percent}% of members removes only those failing locally;
     * the rest stay until a later update confirms it or {@code hold} passes.
     */
    public Builder massRemovalGuard(int percent, Duration hold) {
      requirePercent("massRemovalGuard percent", percent);
      requireNotNegative("massRemovalGuard hold", hold);
      this.massRemovalPercent = percent;
      this.massRemovalHold = hold;
      return this;
    }

    /** Registry updates closer together than {@code debounce} are applied once, together. */
    public Builder updateDebounce(Duration debounce) {
      requireNotNegative("updateDebounce", debounce);
      this.updateDebounce = debounce;
      return this;
    }

    /**
     * How long after the cluster is built a call finding no members waits for the registry's first
     * answer, at most until the call's deadline (default 10 s): a client calling right after
     * building its cluster finds the members instead of failing with "no members known". Only the
     * first answer is awaited; an answer with no members, a registry error or {@link #close} ends
     * the wait. Zero fails such calls at once. {@link Cluster#acquire} blocks the calling thread
     * for it; asynchronous callers use {@link Cluster#whenReady}.
     */
    public Builder firstMembersWait(Duration wait) {
      requireNotNegative("firstMembersWait", wait);
      this.firstMembersWait = wait;
      return this;
    }

    /**
     * The latency estimate's time window (default 1 s) and the latency a failed call counts as, at
     * least (default 1 s). The estimate (what {@link BalancingPolicy#peakEwma()} ranks by) takes a
     * slower answer at once and forgets it over about ten faster answers or this window, whichever
     * comes first; an endpoint without answers decays towards zero over the window, so a longer
     * window retries a slow endpoint, and notices that it recovered, later.
     */
    public Builder latencyTracking(Duration decayWindow, Duration failurePenalty) {
      if (decayWindow.isNegative() || decayWindow.isZero()) {
        throw new IllegalArgumentException("decayWindow must be positive but was " + decayWindow);
      }
      requireNotNegative("failurePenalty", failurePenalty);
      this.ewmaDecay = decayWindow;
      this.failurePenalty = failurePenalty;
      return this;
    }

    /**
     * Adds a listener; listeners are called in the order added. One that is also a {@link
     * CallListener} hears every call too.
     */
    public Builder listener(ClusterListener listener) {
      listeners.add(Objects.requireNonNull(listener, "listener"));
      return this;
    }

    /**
     * The source of time for latency, deadlines and timed state (default {@link Ticker#system()});
     * with {@link #scheduler} a virtual clock runs the cluster in tests and simulations.
     */
    public Builder ticker(Ticker ticker) {
      this.ticker = Objects.requireNonNull(ticker, "ticker");
      return this;
    }

    /**
     * Runs the cluster's timed work (ejection ends, probes, slow-start steps, back-offs, retries of
     * asynchronous calls); several clusters may share one. The cluster does not close it. By
     * default each cluster has a daemon thread of its own.
     */
    public Builder scheduler(Scheduler scheduler) {
      this.timer = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /** As {@link #scheduler} (tests). */
    Builder timer(Scheduler timer) {
      return scheduler(timer);
    }

    /**
     * Opens an integration's per-endpoint resource (a connection pool, say) when an endpoint joins;
     * the cluster closes it when the endpoint has left and its last call finished. Calls reach it
     * through {@link Lease#resource} (grpc's subchannels, Finagle's balancer nodes). The factory
     * runs on the cluster's serial executor: it must be quick and must not block.
     */
    public Builder endpointResource(Function<? super Endpoint, ? extends AutoCloseable> factory) {
      this.resourceFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * A builder with this one's settings, to derive a cluster without changing this builder
     * (listeners are copied, not shared state).
     */
    public Builder copy() {
      Builder b = new Builder(service);
      b.registry = registry;
      b.policy = policy;
      b.localZone = localZone;
      b.zoneMinHealthyPercent = zoneMinHealthyPercent;
      b.breakerConfig = breakerConfig;
      b.outlierDetection = outlierDetection;
      b.healthCheck = healthCheck;
      b.slowStart = slowStart;
      b.slowStartMinPercent = slowStartMinPercent;
      b.panicThresholdPercent = panicThresholdPercent;
      b.retryPolicy = retryPolicy;
      b.maxInFlightPerEndpoint = maxInFlightPerEndpoint;
      b.rateLimit = rateLimit;
      b.massRemovalPercent = massRemovalPercent;
      b.massRemovalHold = massRemovalHold;
      b.updateDebounce = updateDebounce;
      b.firstMembersWait = firstMembersWait;
      b.ewmaDecay = ewmaDecay;
      b.failurePenalty = failurePenalty;
      b.listeners.addAll(listeners);
      b.ticker = ticker;
      b.timer = timer;
      b.breakerClock = breakerClock;
      b.resourceFactory = resourceFactory;
      return b;
    }

    /** The wall clock the circuit breakers read (tests). */
    Builder breakerClock(Clock clock) {
      this.breakerClock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Builds the cluster and starts watching the registry.
     *
     * @throws IllegalStateException if no registry was set
     */
    public Cluster build() {
      if (registry == null) {
        throw new IllegalStateException("a registry is required for service '" + service + "'");
      }
      AddedListeners added = new AddedListeners();
      List<ClusterListener> all = new ArrayList<>(listeners);
      all.add(added);
      return new Cluster(
          new ClusterConfig(
              service,
              registry,
              policy,
              localZone,
              zoneMinHealthyPercent,
              breakerConfig,
              outlierDetection,
              healthCheck,
              slowStart.toNanos(),
              slowStartMinPercent,
              panicThresholdPercent,
              retryPolicy,
              maxInFlightPerEndpoint,
              rateLimit,
              massRemovalPercent,
              massRemovalHold.toNanos(),
              updateDebounce.toNanos(),
              firstMembersWait.toNanos(),
              ewmaDecay.toNanos(),
              failurePenalty.toNanos(),
              ClusterListeners.of(all),
              ticker,
              timer,
              breakerClock,
              resourceFactory),
          added,
          listeners);
    }

    private static void requirePercent(String name, int percent) {
      if (percent < 0 || percent > 100) {
        throw new IllegalArgumentException(name + " must be between 0 and 100 but was " + percent);
      }
    }

    private static void requireNotNegative(String name, Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException(name + " must not be negative but was " + d);
      }
    }
  }
}
