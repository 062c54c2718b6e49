package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.GracefulShutdown.InFlight;
import dev.switchboard.lb.GracefulShutdown.Timing;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The shutdown sequence shared by ThriftServer and HttpServiceRegistration, driven by a recording
 * registration, a sleeper that only records the drain delay, and latches: no test here sleeps.
 */
class GracefulShutdownTest {
  private static final ServiceInstance INSTANCE =
      ServiceInstance.builder("echo", "10.0.0.5", 9090).build();
  private static final Timing TIMING = new Timing(Duration.ofMillis(500), Duration.ofSeconds(30));

  private final List<String> events = new CopyOnWriteArrayList<>();

  /** Records each call; {@code onDrain}/{@code onClose} decide what the call then does. */
  private final class RecordingRegistration implements Registration {
    volatile Runnable onDrain = () -> {};
    volatile Runnable onClose = () -> {};

    @Override
    public ServiceInstance instance() {
      return INSTANCE;
    }

    @Override
    public void drain() {
      events.add("drain");
      onDrain.run();
    }

    @Override
    public void close() {
      events.add("deregister");
      onClose.run();
    }
  }

  /** In-flight requests that report idle (or not) at once, recording the timeout asked for. */
  private final class RecordingInFlight implements InFlight {
    volatile boolean idle = true;

    @Override
    public int inFlight() {
      return idle ? 0 : 3;
    }

    @Override
    public boolean awaitIdle(Duration timeout) {
      events.add("await " + timeout);
      return idle;
    }
  }

  private final RecordingRegistration registration = new RecordingRegistration();
  private final RecordingInFlight inFlight = new RecordingInFlight();

  private GracefulShutdown.Builder shutdown() {
    return GracefulShutdown.builder(INSTANCE)
        .registration(registration)
        .timing(TIMING)
        .inFlight(inFlight)
        .onStop(() -> events.add("stop"))
        .sleeper(d -> events.add("delay " + d));
  }

  @Test
  void close_drainsWaitsTheDelayDeregistersAwaitsInFlightThenStops_inThatOrder() {
    shutdown().build().close();

    assertThat(events)
        .containsExactly("drain", "delay PT0.5S", "deregister", "await PT30S", "stop");
  }

  @Test
  void close_markingDrainingFails_skipsTheDelay_stillDeregistersAndStops() {
    registration.onDrain =
        () -> {
          throw new RegistryException("session expired");
        };

    shutdown().build().close();

    assertThat(events).containsExactly("drain", "deregister", "await PT30S", "stop");
  }

  @Test
  void close_deregisteringFails_stillWaitsForInFlightAndStops() {
    registration.onClose =
        () -> {
          throw new IllegalStateException("registry closed");
        };

    shutdown().build().close();

    assertThat(events)
        .containsExactly("drain", "delay PT0.5S", "deregister", "await PT30S", "stop");
  }

  @Test
  void close_registryCallsThatHang_areAbandonedAfterTheirBound_andTheServerStops()
      throws Exception {
    CountDownLatch never = new CountDownLatch(1);
    Runnable hang =
        () -> {
          try {
            never.await();
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        };
    registration.onDrain = hang;
    registration.onClose = hang;
    GracefulShutdown shutdown = shutdown().registryTimeout(Duration.ofMillis(50)).build();
    try {
      CompletableFuture<Void> closing = CompletableFuture.runAsync(shutdown::close);

      closing.get(30, TimeUnit.SECONDS); // bounded: 2 × 50 ms of registry waits, nothing else
      // Each registry call runs on a thread of its own, which a loaded machine may start after
      // the 50 ms bound: the calls are made, but not necessarily recorded before the stop.
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> events.contains("drain") && events.contains("deregister"));
      assertThat(events.stream().filter(e -> !e.equals("drain") && !e.equals("deregister")))
          .containsExactly("await PT30S", "stop");
    } finally {
      never.countDown();
    }
  }

  @Test
  void close_requestsStillInFlightAtTheTimeout_stopsAnyway() {
    inFlight.idle = false;

    shutdown().build().close();

    assertThat(events).endsWith("await PT30S", "stop");
  }

  @Test
  void close_withoutRegistration_onlyAwaitsInFlightAndStops() {
    GracefulShutdown.builder(INSTANCE)
        .timing(TIMING)
        .inFlight(inFlight)
        .onStop(() -> events.add("stop"))
        .sleeper(d -> events.add("delay " + d))
        .build()
        .close();

    assertThat(events).containsExactly("await PT30S", "stop");
  }

  @Test
  void close_interruptedDuringTheDelay_skipsTheInFlightWait_deregistersStops_keepsTheFlag() {
    GracefulShutdown shutdown =
        shutdown()
            .sleeper(
                d -> {
                  events.add("delay " + d);
                  throw new InterruptedException();
                })
            .build();
    try {
      shutdown.close();

      assertThat(Thread.currentThread().isInterrupted()).isTrue();
      assertThat(events).containsExactly("drain", "delay PT0.5S", "deregister", "stop");
    } finally {
      Thread.interrupted(); // clear it for the next test
    }
  }

  @Test
  void close_concurrently_runsOnce_andEveryCallerReturnsOnlyOnceStopped() throws Exception {
    CountDownLatch stopping = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger stops = new AtomicInteger();
    GracefulShutdown shutdown =
        shutdown()
            .onStop(
                () -> {
                  stops.incrementAndGet();
                  stopping.countDown();
                  try {
                    release.await(30, TimeUnit.SECONDS);
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                })
            .build();
    try {
      CompletableFuture<Void> first = CompletableFuture.runAsync(shutdown::close);
      assertThat(stopping.await(30, TimeUnit.SECONDS)).isTrue();
      Thread second = new Thread(shutdown::close, "second-closer");
      Thread third = new Thread(shutdown::close, "third-closer");
      second.start();
      third.start();

      // Both park waiting for the first close to finish (a caller that returned would be
      // TERMINATED).
      await()
          .atMost(30, TimeUnit.SECONDS)
          .until(
              () ->
                  second.getState() == Thread.State.WAITING
                      && third.getState() == Thread.State.WAITING);
      assertThat(first).isNotDone();
      release.countDown();
      first.get(30, TimeUnit.SECONDS);
      second.join(30_000);
      third.join(30_000);
      assertThat(second.isAlive() || third.isAlive()).isFalse();
      assertThat(stops).hasValue(1);
      assertThat(events).containsExactly("drain", "delay PT0.5S", "deregister", "await PT30S");
    } finally {
      release.countDown();
    }
  }

  @Test
  void close_fromInsideTheStopAction_returnsInsteadOfWaitingForItself() {
    GracefulShutdown[] self = new GracefulShutdown[1];
    self[0] =
        shutdown()
            .onStop(
                () -> {
                  events.add("stop");
                  self[0].close();
                })
            .build();

    self[0].close();

    assertThat(events).endsWith("stop");
  }

  @Test
  void kill_stopsWithoutDrainingOrDeregistering_andALaterCloseDoesNothing() {
    GracefulShutdown shutdown = shutdown().build();

    shutdown.kill();
    shutdown.close();
    shutdown.kill();

    assertThat(events).containsExactly("stop");
  }

  @Test
  void stopActionThatThrows_isLogged_andCloseStillReturns() {
    GracefulShutdown shutdown =
        shutdown()
            .onStop(
                () -> {
                  events.add("stop");
                  throw new IllegalStateException("already stopped");
                })
            .build();

    shutdown.close();
    shutdown.close();

    assertThat(events).containsOnlyOnce("stop");
  }

  @Test
  void timing_negativeDelayOrTimeout_isRejectedNamingTheValue() {
    assertThatThrownBy(() -> new Timing(Duration.ofMillis(-1), Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("drain delay must not be negative but was PT-0.001S");
    assertThatThrownBy(() -> new Timing(Duration.ZERO, Duration.ofSeconds(-2)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("drain timeout must not be negative but was PT-2S");
    assertThat(Timing.DEFAULTS)
        .isEqualTo(new Timing(Duration.ofMillis(500), Duration.ofSeconds(30)));
  }
}
