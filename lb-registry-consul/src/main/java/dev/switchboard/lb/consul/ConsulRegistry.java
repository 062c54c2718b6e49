package dev.switchboard.lb.consul;

import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoubleSupplier;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ServiceRegistry} on Consul's HTTP API, through the local Consul agent.
 *
 * <ul>
 *   <li>{@link #register} registers the instance as an agent service with a TTL check and {@code
 *       DeregisterCriticalServiceAfter}, sends the first heartbeat at once (Consul's checks start
 *       critical), then heartbeats every {@code ttl x heartbeatFraction}, jittered. If the agent
 *       forgets the instance (it restarted without its data, or reaped it), the next heartbeat
 *       registers it again. Zone, weight, draining and metadata travel in the service's {@code
 *       Meta}; the weight also sets {@code Weights.Passing}.
 *   <li>{@link #watch} follows {@code /v1/health/service/{name}?passing} with blocking queries,
 *       following Consul's index rules (reset when it goes backwards, never below 1), a minimum
 *       interval between requests, and jittered exponential backoff on failures. While the agent
 *       cannot be reached or answers nonsense, the listener keeps the last known members and hears
 *       {@link MembershipListener#onError} once. Services registered by other tools (Spring Cloud
 *       Consul, {@code consul services register}) are members too, with defaults for what they do
 *       not say; an empty {@code Service.Address} means the node's address.
 *   <li>Malformed entries are skipped with one warning each; a response that is not a JSON array
 *       counts as a failed poll.
 * </ul>
 *
 * <p>The ACL token is sent as {@code X-Consul-Token} and appears in no log line, message or {@link
 * #toString()}. Closing the registry deregisters its instances, ends its watches and stops its
 * threads.
 *
 * <p>Thread-safe.
 */
public final class ConsulRegistry implements ServiceRegistry {
  private static final Logger logger = LoggerFactory.getLogger(ConsulRegistry.class);
  private static final AtomicInteger REGISTRY_IDS = new AtomicInteger();

  private final AgentClient agent;
  private final ServiceCodec codec = new ServiceCodec();
  private final ScheduledThreadPoolExecutor scheduler;
  private final ExecutorService httpExecutor;
  private final ConsulRegistration.Settings registrationSettings;
  private final ConsulWatch.Settings watchSettings;
  private final @Nullable String datacenter;
  private final boolean hasToken;
  private final Map<String, ConsulRegistration> registrations = new ConcurrentHashMap<>();
  private final Set<ConsulWatch> watches = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();

  private ConsulRegistry(Builder b) {
    int id = REGISTRY_IDS.incrementAndGet();
    this.scheduler = new ScheduledThreadPoolExecutor(1, threads("switchboard-consul-" + id, false));
    scheduler.setRemoveOnCancelPolicy(true);
    this.httpExecutor =
        new ThreadPoolExecutor(
            0,
            Integer.MAX_VALUE,
            30,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            threads("switchboard-consul-" + id + "-http-", true));
    this.agent =
        new AgentClient(
            b.agentUri, b.aclToken, b.datacenter, b.sslContext, b.requestTimeout, httpExecutor);
    this.datacenter = b.datacenter;
    this.hasToken = b.aclToken != null;
    this.registrationSettings =
        new ConsulRegistration.Settings(
            b.ttl, b.deregisterCriticalAfter, b.heartbeatFraction, b.requestTimeout, b.random);
    this.watchSettings =
        new ConsulWatch.Settings(
            b.blockingWait,
            b.minWatchInterval,
            new Backoff(b.backoffInitial, b.backoffMax, b.random));
  }

  /** Starts a builder; every setting has a default, so {@code builder().build()} works. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Registers {@code instance} with the agent and sends its first heartbeat; it is passing when
   * this returns. Its id becomes the Consul service ID, which must be unique on the agent.
   *
   * @throws IllegalArgumentException if Consul would refuse its metadata (see {@link Builder})
   * @throws IllegalStateException if this registry already holds that id, or is closed
   * @throws RegistryException if the agent refused or could not be reached
   */
  @Override
  public Registration register(ServiceInstance instance) {
    Objects.requireNonNull(instance, "instance");
    checkOpen();
    ServiceCodec.requireRegistrable(instance);
    ConsulRegistration registration =
        new ConsulRegistration(
            instance,
            agent,
            codec,
            scheduler,
            registrationSettings,
            r -> registrations.remove(r.serviceId(), r));
    if (registrations.putIfAbsent(instance.id(), registration) != null) {
      throw new IllegalStateException(
          "instance '"
              + instance.id()
              + "' is already registered through this registry (Consul service IDs are unique"
              + " per agent)");
    }
    try {
      registration.start();
    } catch (RuntimeException e) {
      registration.discard();
      registrations.remove(instance.id(), registration);
      throw e;
    }
    if (closed.get()) { // closed while we registered: undo
      registration.close();
      throw new IllegalStateException("registry is closed");
    }
    logger.info(
        "Registered {} at {} as Consul service '{}' with agent {} (TTL {}, heartbeat every {} ms)",
        instance.id(),
        instance.address(),
        instance.service(),
        agent.base(),
        registrationSettings.ttl(),
        TimeUnit.NANOSECONDS.toMillis(registrationSettings.heartbeatNanos()));
    return registration;
  }

  /**
   * Watches the passing members of {@code service}. The listener gets the members once the first
   * query answers, then a snapshot after each change that alters them.
   *
   * @throws IllegalArgumentException if {@code service} is blank
   * @throws IllegalStateException if this registry is closed
   */
  @Override
  public Subscription watch(String service, MembershipListener listener) {
    if (service == null || service.isBlank()) {
      throw new IllegalArgumentException(
          "service must not be blank but was " + (service == null ? "null" : "'" + service + "'"));
    }
    Objects.requireNonNull(listener, "listener");
    checkOpen();
    ConsulWatch watch =
        new ConsulWatch(service, listener, agent, codec, scheduler, watchSettings, watches::remove);
    watches.add(watch);
    watch.start();
    if (closed.get()) {
      watch.close();
      throw new IllegalStateException("registry is closed");
    }
    return watch;
  }

  /** Deregisters this registry's instances, ends its watches and stops its threads. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    for (ConsulWatch watch : new ArrayList<>(watches)) {
      watch.close();
    }
    for (ConsulRegistration registration : new ArrayList<>(registrations.values())) {
      registration.close();
    }
    scheduler.shutdownNow();
    httpExecutor.shutdownNow();
    try {
      scheduler.awaitTermination(5, TimeUnit.SECONDS);
      httpExecutor.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    agent.close();
  }

  @Override
  public String toString() {
    return "ConsulRegistry["
        + agent.base()
        + (datacenter == null ? "" : ", dc=" + datacenter)
        + (hasToken ? ", ACL token set" : "")
        + "]";
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("registry is closed");
    }
  }

  private static ThreadFactory threads(String name, boolean numbered) {
    AtomicInteger count = new AtomicInteger();
    return runnable -> {
      Thread thread = new Thread(runnable, numbered ? name + count.incrementAndGet() : name);
      thread.setDaemon(true);
      return thread;
    };
  }

  /**
   * Configures a {@link ConsulRegistry}. Each setter validates its argument at once and throws
   * {@link IllegalArgumentException} naming the bad value (never an ACL token); {@link #build()}
   * throws {@link IllegalStateException} for conflicting settings. Not thread-safe.
   *
   * <p>Instance metadata must be valid Consul service metadata (keys of letters, digits, {@code -}
   * and {@code _}, at most 128 characters, not starting with {@code consul-}; values at most 512
   * characters; at most 61 pairs) and must not use the keys {@code zone}, {@code weight} and {@code
   * draining}, which carry the instance's own fields.
   */
  public static final class Builder {
    private static final Pattern DATACENTER = Pattern.compile("[A-Za-z0-9_.-]+");
    private static final Duration MAX_WAIT = Duration.ofMinutes(10);

    private URI agentUri = URI.create("http://127.0.0.1:8500");
    private @Nullable String aclToken;
    private @Nullable String datacenter;
    private @Nullable SSLContext sslContext;
    private Duration ttl = Duration.ofSeconds(10);
    private double heartbeatFraction = 1.0 / 3;
    private Duration deregisterCriticalAfter = Duration.ofMinutes(1);
    private Duration blockingWait = Duration.ofSeconds(55);
    private Duration minWatchInterval = Duration.ofMillis(100);
    private Duration backoffInitial = Duration.ofMillis(250);
    private Duration backoffMax = Duration.ofSeconds(30);
    private Duration requestTimeout = Duration.ofSeconds(10);
    private DoubleSupplier random = () -> ThreadLocalRandom.current().nextDouble();

    private Builder() {}

    /**
     * The agent's HTTP API, default {@code http://127.0.0.1:8500}: {@code http} or {@code https}
     * with a host, optionally a port and a path prefix (behind a proxy); no user info, query or
     * fragment.
     */
    public Builder agentUri(URI agentUri) {
      if (agentUri == null) {
        throw new IllegalArgumentException("agentUri must not be null");
      }
      if (agentUri.getRawUserInfo() != null) {
        throw new IllegalArgumentException(
            "agentUri must not carry credentials (use aclToken) but was "
                + agentUri.getScheme()
                + "://***@"
                + agentUri.getHost());
      }
      String scheme =
          agentUri.getScheme() == null ? "" : agentUri.getScheme().toLowerCase(Locale.ROOT);
      if (!scheme.equals("http") && !scheme.equals("https")) {
        throw new IllegalArgumentException(
            "agentUri must be an http or https URI like http://127.0.0.1:8500 but was " + agentUri);
      }
      if (agentUri.getHost() == null
          || agentUri.getRawQuery() != null
          || agentUri.getRawFragment() != null) {
        throw new IllegalArgumentException(
            "agentUri must have a host and no query or fragment but was " + agentUri);
      }
      this.agentUri = agentUri;
      return this;
    }

    /** The ACL token, sent as {@code X-Consul-Token}; default none (the agent's default token). */
    public Builder aclToken(String aclToken) {
      if (aclToken == null || aclToken.isBlank()) {
        throw new IllegalArgumentException(
            "aclToken must not be blank but was " + (aclToken == null ? "null" : "blank"));
      }
      for (int i = 0; i < aclToken.length(); i++) {
        char c = aclToken.charAt(i);
        if (c <= ' ' || c >= 0x7f) {
          throw new IllegalArgumentException(
              "aclToken must hold only visible ASCII characters, but character "
                  + (i + 1)
                  + " of "
                  + aclToken.length()
                  + " is not (the token itself is not shown)");
        }
      }
      this.aclToken = aclToken;
      return this;
    }

    /**
     * The datacenter whose members {@link #watch} reads ({@code dc=}); default the agent's own.
     * Registration always goes to the local agent.
     */
    public Builder datacenter(String datacenter) {
      if (datacenter == null || !DATACENTER.matcher(datacenter).matches()) {
        throw new IllegalArgumentException(
            "datacenter must be letters, digits, '.', '-' or '_' but was "
                + (datacenter == null ? "null" : "'" + datacenter + "'"));
      }
      this.datacenter = datacenter;
      return this;
    }

    /**
     * The TLS context for an {@code https} agent URI (trust, and a key for mutual TLS); default the
     * JDK's.
     */
    public Builder sslContext(SSLContext sslContext) {
      if (sslContext == null) {
        throw new IllegalArgumentException("sslContext must not be null");
      }
      this.sslContext = sslContext;
      return this;
    }

    /**
     * How long the agent keeps an instance passing without a heartbeat; default 10 s, at least 10
     * ms.
     */
    public Builder ttl(Duration ttl) {
      this.ttl = requireBetween(ttl, Duration.ofMillis(10), Duration.ofDays(1), "ttl");
      return this;
    }

    /**
     * Heartbeats are sent every {@code ttl x fraction}, less up to 20% jitter; default 1/3, so two
     * heartbeats may be lost before the check turns critical. Between 0 and 1, exclusive.
     */
    public Builder heartbeatFraction(double fraction) {
      if (!(fraction > 0 && fraction < 1)) {
        throw new IllegalArgumentException(
            "heartbeatFraction must be between 0 and 1 (exclusive) but was " + fraction);
      }
      this.heartbeatFraction = fraction;
      return this;
    }

    /**
     * How long the agent keeps an instance whose check stays critical (its process died) before
     * deregistering it; default 1 minute. Consul applies at least 1 minute and reaps every 30 s.
     */
    public Builder deregisterCriticalAfter(Duration after) {
      this.deregisterCriticalAfter =
          requireBetween(
              after, Duration.ofMillis(1), Duration.ofDays(7), "deregisterCriticalAfter");
      return this;
    }

    /**
     * How long one blocking query waits for a change; default 55 s, which with Consul's added
     * jitter (up to 1/16) stays under the common 60 s idle timeout of proxies. At most 10 minutes
     * (Consul's cap).
     */
    public Builder blockingWait(Duration wait) {
      this.blockingWait = requireBetween(wait, Duration.ofMillis(1), MAX_WAIT, "blockingWait");
      return this;
    }

    /**
     * The least time between the starts of two queries of one watch; default 100 ms. Bounds the
     * load a watch puts on the agent when queries return at once (busy services, index faults).
     */
    public Builder minWatchInterval(Duration interval) {
      this.minWatchInterval =
          requireBetween(interval, Duration.ofMillis(1), Duration.ofHours(1), "minWatchInterval");
      return this;
    }

    /**
     * Backoff after failed queries: the n-th failure in a row waits between half and all of {@code
     * min(max, initial x 2^(n-1))}. Default 250 ms to 30 s.
     */
    public Builder backoff(Duration initial, Duration max) {
      requireBetween(initial, Duration.ofMillis(1), Duration.ofHours(1), "backoff initial");
      requireBetween(max, Duration.ofMillis(1), Duration.ofHours(1), "backoff max");
      if (max.compareTo(initial) < 0) {
        throw new IllegalArgumentException(
            "backoff max must be at least initial (" + initial + ") but was " + max);
      }
      this.backoffInitial = initial;
      this.backoffMax = max;
      return this;
    }

    /**
     * How long to wait for the agent to connect and answer a request other than a blocking query
     * (which gets its wait on top); default 10 s.
     */
    public Builder requestTimeout(Duration timeout) {
      this.requestTimeout =
          requireBetween(timeout, Duration.ofMillis(1), MAX_WAIT, "requestTimeout");
      return this;
    }

    /** The random source for jitter, values in [0, 1) (tests). */
    Builder random(DoubleSupplier random) {
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Builds the registry. Nothing is sent until the first {@link ConsulRegistry#register} or
     * {@link ConsulRegistry#watch}.
     *
     * @throws IllegalStateException if a TLS context is set for an {@code http} agent URI
     */
    public ConsulRegistry build() {
      if (sslContext != null && !"https".equalsIgnoreCase(agentUri.getScheme())) {
        throw new IllegalStateException(
            "sslContext is set but the agent URI " + agentUri + " is not https");
      }
      return new ConsulRegistry(this);
    }

    private static Duration requireBetween(
        @Nullable Duration value, Duration min, Duration max, String field) {
      if (value == null || value.compareTo(min) < 0 || value.compareTo(max) > 0) {
        throw new IllegalArgumentException(
            field + " must be between " + min + " and " + max + " but was " + value);
      }
      return value;
    }
  }
}
