package dev.switchboard.lb.consul;

import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * One registration
 * ----------------
 * - register: PUT /v1/agent/service/register (the TTL check starts critical), then at once PUT
 *   /v1/agent/check/pass/service:<id>, so the instance is passing when register() returns.
 * - heartbeat: a pass every ttl x heartbeatFraction, minus up to 20% jitter so that instances
 *   started together do not beat together. A failed beat is retried at the next beat (at that
 *   interval, well inside the TTL), with one WARN per run of failures.
 * - the agent forgot us (the pass answers 404 "Unknown check ID", or 500 "... does not have
 *   associated TTL" from Consul before 1.11): it restarted without its data, or reaped us after
 *   DeregisterCriticalServiceAfter, e.g. after a long pause. We register again, declared passing,
 *   then pass.
 * - drain: register again with draining=true in Meta; Consul keeps the check's status.
 * - close: deregister; 404 "Unknown service ID" means already gone. Idempotent.
 *
 * Every write goes through one chain of futures, so writes reach the agent in order and never
 * overlap: a re-registration started by a heartbeat finishes before a drain or a deregistration
 * is sent, and nothing is sent after the deregistration.
 */

/** One instance registered with a Consul agent. Thread-safe. */
final class ConsulRegistration implements Registration {
  private static final Logger logger = LoggerFactory.getLogger(ConsulRegistration.class);

  /** How registrations talk to the agent. */
  record Settings(
      Duration ttl,
      Duration deregisterCriticalAfter,
      double heartbeatFraction,
      Duration requestTimeout,
      DoubleSupplier random) {

    long heartbeatNanos() {
      return Math.max(1, (long) (ttl.toNanos() * heartbeatFraction));
    }
  }

  private final AgentClient agent;
  private final ServiceCodec codec;
  private final ScheduledExecutorService scheduler;
  private final Settings settings;
  private final Consumer<ConsulRegistration> onClose;
  private final String serviceId;
  private final String checkId;
  private final Object lock = new Object();
  private final AtomicLong reRegistrations = new AtomicLong();
  private volatile ServiceInstance instance;
  private volatile boolean closed;

  // Guarded by lock.
  private CompletableFuture<?> tail = CompletableFuture.completedFuture(null);
  private @Nullable ScheduledFuture<?> nextBeat;
  private boolean heartbeatsSuspended;

  // Heartbeat chain only.
  private int failedBeats;

  ConsulRegistration(
      ServiceInstance instance,
      AgentClient agent,
      ServiceCodec codec,
      ScheduledExecutorService scheduler,
      Settings settings,
      Consumer<ConsulRegistration> onClose) {
    this.instance = instance;
    this.agent = agent;
    this.codec = codec;
    this.scheduler = scheduler;
    this.settings = settings;
    this.onClose = onClose;
    this.serviceId = instance.id();
    this.checkId = ServiceCodec.checkId(instance.id());
  }

  /**
   * Registers and sends the first heartbeat, then starts heartbeating.
   *
   * @throws RegistryException if the agent refused or could not be reached
   */
  void start() {
    AgentClient.Reply registered =
        await(enqueue(() -> agent.put(registerPath(), body(false))), "register");
    if (!registered.ok()) {
      throw refused("register", registered);
    }
    try {
      AgentClient.Reply passed = await(enqueue(this::pass), "send the first heartbeat for");
      if (!passed.ok()) {
        throw refused("send the first heartbeat for", passed);
      }
    } catch (RegistryException e) {
      discard();
      try { // registered but not passing: leave nothing behind
        AgentClient.await(enqueue(this::deregister), settings.requestTimeout());
      } catch (RuntimeException ignored) {
        // the agent reaps it after DeregisterCriticalServiceAfter
      }
      throw e;
    }
    scheduleBeat();
  }

  /** Marks this registration closed without talking to the agent (it never registered). */
  void discard() {
    synchronized (lock) {
      closed = true;
      if (nextBeat != null) {
        nextBeat.cancel(false);
      }
    }
  }

  String serviceId() {
    return serviceId;
  }

  /** Times the agent forgot this instance and it registered again. */
  long reRegistrations() {
    return reRegistrations.get();
  }

  /** Stops heartbeats without deregistering, as a frozen process would (tests). */
  void suspendHeartbeats() {
    synchronized (lock) {
      heartbeatsSuspended = true;
      if (nextBeat != null) {
        nextBeat.cancel(false);
      }
    }
  }

  @Override
  public ServiceInstance instance() {
    return instance;
  }

  @Override
  public void drain() {
    synchronized (lock) {
      if (closed) {
        throw new IllegalStateException("registration of " + serviceId + " is closed");
      }
      instance = instance.withDraining(true);
    }
    AgentClient.Reply reply =
        await(enqueue(() -> agent.put(registerPath(), body(true))), "mark draining");
    if (!reply.ok()) {
      throw refused("mark draining", reply);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (nextBeat != null) {
        nextBeat.cancel(false);
      }
    }
    try {
      AgentClient.Reply reply = await(enqueue(this::deregister), "deregister");
      if (reply.ok() || reply.status() == 404) {
        logger.info("Deregistered {} from Consul agent {}", serviceId, agent.base());
      } else {
        warnNotDeregistered(reply.describe());
      }
    } catch (RegistryException e) {
      warnNotDeregistered(e.getMessage());
    } finally {
      onClose.accept(this);
    }
  }

  private void warnNotDeregistered(@Nullable String reason) {
    logger.warn(
        "Could not deregister {} from Consul agent {} ({}); the agent removes it {} after its"
            + " check turns critical (TTL {})",
        serviceId,
        agent.base(),
        reason,
        settings.deregisterCriticalAfter(),
        settings.ttl());
  }

  private void scheduleBeat() {
    long interval = settings.heartbeatNanos();
    long delay = interval - (long) (0.2 * interval * settings.random().getAsDouble());
    synchronized (lock) {
      if (closed || heartbeatsSuspended) {
        return;
      }
      try {
        nextBeat = scheduler.schedule(this::beat, delay, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // the registry is closing
      }
    }
  }

  private void beat() {
    enqueue(this::heartbeat)
        .whenComplete(
            (reply, error) -> {
              if (closed) {
                return;
              }
              String failure =
                  error != null
                      ? AgentClient.describe(error)
                      : reply.ok() ? null : reply.describe();
              if (failure == null) {
                if (failedBeats > 0) {
                  logger.info(
                      "Heartbeats of {} reach Consul agent {} again after {} failure(s)",
                      serviceId,
                      agent.base(),
                      failedBeats);
                }
                failedBeats = 0;
              } else if (failedBeats++ == 0) {
                logger.warn(
                    "Heartbeat of {} to Consul agent {} failed ({}); retrying every {} ms, the"
                        + " agent marks it critical after {} without one",
                    serviceId,
                    agent.base(),
                    failure,
                    TimeUnit.NANOSECONDS.toMillis(settings.heartbeatNanos()),
                    settings.ttl());
              } else {
                logger.debug("Heartbeat of {} failed again: {}", serviceId, failure);
              }
              scheduleBeat();
            });
  }

  /** A pass; if the agent forgot us, register again (passing) and pass. */
  private CompletableFuture<AgentClient.Reply> heartbeat() {
    if (closed) {
      return CompletableFuture.completedFuture(new AgentClient.Reply(200, 0, new byte[0]));
    }
    return pass()
        .thenCompose(
            reply -> {
              if (!forgotten(reply) || closed) {
                return CompletableFuture.completedFuture(reply);
              }
              logger.info(
                  "Consul agent {} does not know {} any more ({}); registering it again",
                  agent.base(),
                  serviceId,
                  reply.describe());
              return agent
                  .put(registerPath(), body(true))
                  .thenCompose(
                      registered -> {
                        if (!registered.ok()) {
                          return CompletableFuture.completedFuture(registered);
                        }
                        reRegistrations.incrementAndGet();
                        return pass();
                      });
            });
  }

  private CompletableFuture<AgentClient.Reply> deregister() {
    return agent.put("/v1/agent/service/deregister/" + AgentClient.segment(serviceId), null);
  }

  private CompletableFuture<AgentClient.Reply> pass() {
    return agent.put("/v1/agent/check/pass/" + AgentClient.segment(checkId), null);
  }

  /** Whether the agent no longer has our check (404 since Consul 1.11, 500 before). */
  private static boolean forgotten(AgentClient.Reply reply) {
    if (reply.status() == 404) {
      return true;
    }
    String text = reply.text();
    return reply.status() == 500
        && (text.contains("does not have associated TTL") || text.contains("Unknown check"));
  }

  private String registerPath() {
    return "/v1/agent/service/register";
  }

  private byte[] body(boolean passing) {
    return codec.bytes(
        codec.registration(instance, settings.ttl(), settings.deregisterCriticalAfter(), passing));
  }

  /** Runs {@code op} after every write enqueued before it, whatever their outcome. */
  private <T> CompletableFuture<T> enqueue(Supplier<CompletableFuture<T>> op) {
    synchronized (lock) {
      CompletableFuture<T> next = tail.handle((r, e) -> null).thenCompose(ignored -> op.get());
      tail = next;
      return next;
    }
  }

  private AgentClient.Reply await(CompletableFuture<AgentClient.Reply> future, String action) {
    // Writes queued before this one may take their own request timeout first.
    Duration timeout = settings.requestTimeout().multipliedBy(3);
    try {
      return AgentClient.await(future, timeout);
    } catch (AgentClient.RegistryIoException e) {
      throw new RegistryException(
          "could not "
              + action
              + " instance '"
              + serviceId
              + "' of service '"
              + instance.service()
              + "' with Consul agent "
              + agent.base()
              + ": "
              + e.getMessage(),
          e.getCause() == null ? e : e.getCause());
    }
  }

  private RegistryException refused(String action, AgentClient.Reply reply) {
    return new RegistryException(
        "Consul agent "
            + agent.base()
            + " refused to "
            + action
            + " instance '"
            + serviceId
            + "' of service '"
            + instance.service()
            + "': "
            + reply.describe());
  }

  @Override
  public String toString() {
    return "ConsulRegistration["
        + serviceId
        + " of "
        + instance.service()
        + (instance.draining() ? ", draining]" : "]");
  }
}
