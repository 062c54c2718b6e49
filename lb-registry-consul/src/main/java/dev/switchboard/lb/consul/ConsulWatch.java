package dev.switchboard.lb.consul;

import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Future;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * The blocking-query loop
 * -----------------------
 *   poll ──► GET /v1/health/service/<name>?passing&index=I&wait=W ──► handle (on the scheduler)
 *     ▲                                                                 │
 *     └── at once, but never sooner than minInterval after the last ◄───┤ answered: next index
 *         request started (rate limit)                                  │ (BlockingIndex), deliver
 *     └── after a jittered exponential backoff ◄────────────────────────┘ failed: keep last known
 *
 * - One request in flight per watch. Requests are asynchronous; answers are handled on the
 *   registry's scheduler thread, so a watch's listener is never called concurrently with itself.
 * - A poll fails on a connection error, a timeout, a non-2xx status or a body that is not a JSON
 *   array. The listener hears onError once per run of failures and keeps its members; the next
 *   answered poll delivers the members again, even if unchanged, which ends the degraded state.
 * - Answered polls deliver only when the members changed: a query also wakes when entries that
 *   are not passing change, or when the wait runs out. An unchanged answer confirms the members
 *   (MembershipListener.onConfirmed), so the cluster's registry age stays low.
 * - Malformed entries are skipped (MemberDecoder); if all are, the snapshot is empty, and the
 *   cluster's keep-last-known decides what to believe.
 */

/** A watch on one service's passing members. Thread-safe. */
final class ConsulWatch implements Subscription {
  private static final Logger logger = LoggerFactory.getLogger(ConsulWatch.class);

  /** How one watch polls. */
  record Settings(Duration blockingWait, Duration minInterval, Backoff backoff) {}

  private final String service;
  private final MembershipListener listener;
  private final AgentClient agent;
  private final ScheduledExecutorService scheduler;
  private final Settings settings;
  private final Consumer<ConsulWatch> onClose;
  private final MemberDecoder decoder;
  private final AtomicLong requests = new AtomicLong();
  private final Object lock = new Object();

  // Scheduler thread only.
  private long index;
  private int failures;
  private long lastStartNanos;
  private boolean polled;

  // Guarded by lock.
  private boolean closed;
  private boolean degraded;
  private @Nullable List<ServiceInstance> delivered;
  private @Nullable Future<?> scheduled;
  private @Nullable CompletableFuture<?> inFlight;

  ConsulWatch(
      String service,
      MembershipListener listener,
      AgentClient agent,
      ServiceCodec codec,
      ScheduledExecutorService scheduler,
      Settings settings,
      Consumer<ConsulWatch> onClose) {
    this.service = service;
    this.listener = listener;
    this.agent = agent;
    this.scheduler = scheduler;
    this.settings = settings;
    this.onClose = onClose;
    this.decoder = new MemberDecoder(service, codec);
  }

  void start() {
    schedule(0);
  }

  /** Requests sent so far. */
  long requests() {
    return requests.get();
  }

  /** How many malformed-entry warnings this watch logged (read on the scheduler, or racy). */
  long malformedWarnings() {
    return decoder.malformedWarnings();
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      if (scheduled != null) {
        scheduled.cancel(false);
      }
      if (inFlight != null) {
        inFlight.cancel(true);
      }
    }
    onClose.accept(this);
  }

  private void schedule(long delayNanos) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      try {
        scheduled = scheduler.schedule(this::poll, delayNanos, TimeUnit.NANOSECONDS);
      } catch (RejectedExecutionException e) {
        // the registry is closing
      }
    }
  }

  private void poll() {
    long now = System.nanoTime();
    long minInterval = settings.minInterval().toNanos();
    if (polled && now - lastStartNanos < minInterval) {
      schedule(minInterval - (now - lastStartNanos));
      return;
    }
    polled = true;
    lastStartNanos = now;
    CompletableFuture<AgentClient.Reply> reply;
    synchronized (lock) {
      if (closed) {
        return;
      }
      requests.incrementAndGet();
      reply = agent.health(service, index, settings.blockingWait());
      inFlight = reply;
    }
    try {
      reply.whenCompleteAsync(this::handle, scheduler);
    } catch (RejectedExecutionException e) {
      // the registry is closing
    }
  }

  private void handle(AgentClient.@Nullable Reply reply, @Nullable Throwable error) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      inFlight = null;
    }
    if (error != null || reply == null) {
      failed(AgentClient.describe(error));
      return;
    }
    if (!reply.ok()) {
      failed(reply.describe());
      return;
    }
    List<ServiceInstance> members;
    try {
      members = decoder.decode(reply.body());
    } catch (MemberDecoder.MalformedBodyException e) {
      failed("malformed response: " + e.getMessage());
      return;
    }
    long next = BlockingIndex.next(index, reply.index());
    if (next == 0) {
      logger.info(
          "Consul index for service '{}' went backwards from {} to {}; restarting its watch",
          service,
          index,
          reply.index());
    }
    index = next;
    if (failures > 0) {
      logger.info(
          "Consul agent {} answers again for service '{}' after {} failed poll(s)",
          agent.base(),
          service,
          failures);
      failures = 0;
    }
    deliver(members);
    schedule(0); // poll() applies the minimum interval
  }

  private void failed(String reason) {
    failures++;
    long delay = settings.backoff().delayNanos(failures);
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (!degraded) {
        degraded = true;
        int known = delivered == null ? 0 : delivered.size();
        logger.warn(
            "Watch of Consul service '{}' at {} failed ({}); keeping the {} last known member(s),"
                + " retrying with backoff",
            service,
            agent.base(),
            reason,
            known);
        try {
          listener.onError(
              new RegistryException(
                  "Consul agent "
                      + agent.base()
                      + ": "
                      + reason
                      + "; keeping the "
                      + known
                      + " last known members of service '"
                      + service
                      + "' until it answers"));
        } catch (RuntimeException e) {
          logger.warn("Membership listener of service '{}' threw on onError; ignored", service, e);
        }
      } else {
        logger.debug(
            "Watch of Consul service '{}' failed again ({}, {} in a row); next try in {} ms",
            service,
            reason,
            failures,
            TimeUnit.NANOSECONDS.toMillis(delay));
      }
    }
    schedule(delay);
  }

  private void deliver(List<ServiceInstance> members) {
    synchronized (lock) {
      if (closed) {
        return;
      }
      if (!degraded && members.equals(delivered)) {
        try {
          listener.onConfirmed(); // unchanged: the cluster's view is fresh as of now
        } catch (RuntimeException e) {
          logger.warn("Membership listener of service '{}' threw; ignored", service, e);
        }
        return;
      }
      delivered = members;
      degraded = false;
      try {
        listener.onMembers(members);
      } catch (RuntimeException e) {
        logger.warn("Membership listener of service '{}' threw; ignored", service, e);
      }
    }
  }

  @Override
  public String toString() {
    return "ConsulWatch[" + service + "]";
  }
}
