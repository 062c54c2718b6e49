package dev.switchboard.lb;

import dev.switchboard.lb.ServiceRegistry.Registration;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a registered server out of rotation without failing calls: the one shutdown sequence of
 * every server integration ({@code ThriftServer.close()}, {@code HttpServiceRegistration.close()}).
 * {@link #close()}
 *
 * <ol>
 *   <li>marks the instance draining in the registry ({@link Registration#drain()}): clients stop
 *       picking it while it stays registered;
 *   <li>waits the {@linkplain Timing#delay() drain delay}, so clients see that (skipped if marking
 *       failed: then nobody would see it);
 *   <li>deregisters it ({@link Registration#close()});
 *   <li>waits up to the {@linkplain Timing#timeout() drain timeout} for the requests in flight;
 *   <li>stops the server.
 * </ol>
 *
 * <p>Without a registration (a server that never registered) only the last two steps run. Registry
 * errors are logged and the sequence goes on: the server always stops. Every wait is bounded: each
 * registry call gets at most 10 s (a call still running then is logged and left on its own daemon
 * thread). An interrupt of the closing thread skips the drain delay and the in-flight wait, still
 * deregisters and stops, and leaves the thread's interrupt flag set.
 *
 * <p>Thread-safe. {@link #close()} runs the sequence once; other callers wait until it has
 * finished; {@link #kill()} stops at once.
 */
public final class GracefulShutdown implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(GracefulShutdown.class);
  static final long REGISTRY_CALL_TIMEOUT_SECONDS = 10;

  private final ServiceInstance instance;
  private final @Nullable Registration registration;
  private final Timing timing;
  private final @Nullable InFlight inFlight;
  private final Runnable stop;
  private final Sleeper sleeper;
  private final Duration registryTimeout;
  private final AtomicReference<@Nullable Thread> closer = new AtomicReference<>();
  private final AtomicBoolean claimed = new AtomicBoolean();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final CountDownLatch finished = new CountDownLatch(1);
  private boolean interrupted; // confined to the closing thread

  private GracefulShutdown(Builder b) {
    this.instance = b.instance;
    this.registration = b.registration;
    this.timing = b.timing;
    this.inFlight = b.inFlight;
    this.stop = b.stop;
    this.sleeper = b.sleeper;
    this.registryTimeout = b.registryTimeout;
  }

  /** Starts a shutdown for the server {@code instance} describes (named in its logs). */
  public static Builder builder(ServiceInstance instance) {
    return new Builder(instance);
  }

  /**
   * How long a drain lasts: {@code delay}, after marking the instance draining, before it is
   * deregistered (time for clients to see it), and at most {@code timeout} afterwards for the
   * requests in flight to finish.
   *
   * @param delay not negative; default 500 ms
   * @param timeout not negative; default 30 s
   */
  public record Timing(Duration delay, Duration timeout) {
    /** 500 ms delay, 30 s timeout. */
    public static final Timing DEFAULTS =
        new Timing(Duration.ofMillis(500), Duration.ofSeconds(30));

    /**
     * @throws IllegalArgumentException if either is negative
     */
    public Timing {
      Objects.requireNonNull(delay, "delay");
      Objects.requireNonNull(timeout, "timeout");
      if (delay.isNegative()) {
        throw new IllegalArgumentException("drain delay must not be negative but was " + delay);
      }
      if (timeout.isNegative()) {
        throw new IllegalArgumentException("drain timeout must not be negative but was " + timeout);
      }
    }
  }

  /** The requests a server is handling, for the drain to wait on. Must be thread-safe. */
  public interface InFlight {
    /** Requests begun and not yet finished. */
    int inFlight();

    /**
     * Waits until no request is in flight or {@code timeout} passes.
     *
     * @return whether the server went idle in time
     * @throws InterruptedException if the waiting thread was interrupted
     */
    boolean awaitIdle(Duration timeout) throws InterruptedException;
  }

  /** Waits out the drain delay; injected by tests. */
  @FunctionalInterface
  interface Sleeper {
    void sleep(Duration duration) throws InterruptedException;
  }

  /**
   * Drains, deregisters, waits (bounded) for requests in flight, then stops: see the class comment.
   * Runs once; a caller during or after the first waits until it has finished.
   */
  @Override
  public void close() {
    if (!claimed.compareAndSet(false, true)) {
      awaitFinished();
      return;
    }
    closer.set(Thread.currentThread());
    try {
      run();
    } finally {
      finished.countDown();
    }
  }

  /**
   * Stops the server at once: no drain, no deregistration (the registry lists it until its session
   * ends). A later {@link #close()} does nothing; a {@link #close()} under way skips the stop.
   */
  public void kill() {
    boolean first = claimed.compareAndSet(false, true);
    stopOnce();
    if (first) {
      finished.countDown();
    }
  }

  private void run() {
    long start = System.nanoTime();
    interrupted = Thread.interrupted();
    if (registration != null) {
      Registration r = registration;
      boolean marked = registryCall("marking", "draining", r::drain, "deregistering it now");
      if (marked && !interrupted && !timing.delay().isZero()) {
        logger.info(
            "Service '{}': {} draining; deregistering in {} ms",
            instance.service(),
            instance.address(),
            timing.delay().toMillis());
        try {
          sleeper.sleep(timing.delay());
        } catch (InterruptedException e) {
          interrupted = true;
        }
      }
      registryCall("deregistering", "", r::close, "stopping anyway");
    }
    awaitInFlight();
    stopOnce();
    logger.info(
        "Service '{}': {} drained and stopped in {} ms",
        instance.service(),
        instance.address(),
        TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
    if (interrupted) {
      Thread.currentThread().interrupt();
    }
  }

  /** Runs one registry call on its own thread, waiting (uninterruptibly) at most the bound. */
  private boolean registryCall(String verb, String object, Runnable call, String next) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Thread thread =
        new Thread(
            () -> {
              try {
                call.run();
                done.complete(null);
              } catch (Throwable t) {
                done.completeExceptionally(t);
              }
            },
            "switchboard-shutdown-" + instance.id());
    thread.setDaemon(true);
    thread.start();
    String what = (verb + " " + instance.address() + " " + object).strip();
    long deadline = System.nanoTime() + registryTimeout.toNanos();
    while (true) {
      try {
        done.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        return true;
      } catch (InterruptedException e) {
        interrupted = true; // keep waiting: the registry call is bounded and must not be skipped
      } catch (ExecutionException e) {
        logger.warn("Service '{}': {} failed; {}", instance.service(), what, next, e.getCause());
        return false;
      } catch (TimeoutException e) {
        logger.warn(
            "Service '{}': {} did not finish within {} ms (left running); {}",
            instance.service(),
            what,
            registryTimeout.toMillis(),
            next);
        return false;
      }
    }
  }

  private void awaitInFlight() {
    if (inFlight == null || interrupted) {
      return;
    }
    boolean idle;
    try {
      idle = inFlight.awaitIdle(timing.timeout());
    } catch (InterruptedException e) {
      interrupted = true;
      idle = false;
    }
    if (!idle) {
      logger.warn(
          "Service '{}': {} still has {} requests in flight after {} ms; stopping it anyway",
          instance.service(),
          instance.address(),
          inFlight.inFlight(),
          timing.timeout().toMillis());
    }
  }

  private void stopOnce() {
    if (!stopped.compareAndSet(false, true)) {
      return;
    }
    try {
      stop.run();
    } catch (RuntimeException e) {
      logger.warn("Service '{}': stopping {} failed", instance.service(), instance.address(), e);
    }
  }

  private void awaitFinished() {
    if (closer.get() == Thread.currentThread()) {
      return; // close() from inside the stop action
    }
    try {
      finished.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public String toString() {
    return "GracefulShutdown{" + instance.address() + ", " + timing + "}";
  }

  /** Configures a {@link GracefulShutdown}; each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private final ServiceInstance instance;
    private @Nullable Registration registration;
    private Timing timing = Timing.DEFAULTS;
    private @Nullable InFlight inFlight;
    private Runnable stop = () -> {};
    private Sleeper sleeper = duration -> TimeUnit.NANOSECONDS.sleep(duration.toNanos());
    private Duration registryTimeout = Duration.ofSeconds(REGISTRY_CALL_TIMEOUT_SECONDS);

    private Builder(ServiceInstance instance) {
      this.instance = Objects.requireNonNull(instance, "instance");
    }

    /** The registration to drain and close; none: the server was never registered. */
    public Builder registration(Registration registration) {
      this.registration = Objects.requireNonNull(registration, "registration");
      return this;
    }

    /** The drain delay and timeout; default {@link Timing#DEFAULTS}. */
    public Builder timing(Timing timing) {
      this.timing = Objects.requireNonNull(timing, "timing");
      return this;
    }

    /** What to wait for before stopping; none: no waiting. */
    public Builder inFlight(InFlight inFlight) {
      this.inFlight = Objects.requireNonNull(inFlight, "inFlight");
      return this;
    }

    /** Stops the server; run once, last. Should itself be bounded. */
    public Builder onStop(Runnable stop) {
      this.stop = Objects.requireNonNull(stop, "stop");
      return this;
    }

    Builder sleeper(Sleeper sleeper) {
      this.sleeper = Objects.requireNonNull(sleeper, "sleeper");
      return this;
    }

    Builder registryTimeout(Duration timeout) {
      this.registryTimeout = Objects.requireNonNull(timeout, "timeout");
      return this;
    }

    public GracefulShutdown build() {
      return new GracefulShutdown(this);
    }
  }
}
