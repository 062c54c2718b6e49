package dev.switchboard.lb;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Outlier ejection and breaker probes
 * ===================================
 * Callers count consecutive endpoint failures on the endpoint itself (one atomic add); when the
 * count reaches the threshold they post ejectionCheck() here. Ejection runs on the serial
 * executor, so the cap on ejected members (maxEjectionPercent, at least one) is exact. The
 * ejection time doubles with each ejection that follows the previous restore within
 * maxEjectionTime, and resets after a quiet period (Envoy's outlier detection).
 *
 * Breakers: pickers skip endpoints whose breaker is OPEN, so nobody would ever ask an open
 * breaker for a permit and it would stay open forever. After the open wait, probe() takes one
 * permit (which moves Resilience4j to HALF_OPEN) and hands it back, and the rebuild lets the
 * half-open endpoint take its limited probe calls.
 */
final class OutlierDetector {
  private static final Logger logger = LoggerFactory.getLogger(OutlierDetector.class);

  private final ClusterState state;
  private final OutlierDetection config;

  OutlierDetector(ClusterState state) {
    this.state = state;
    this.config = state.config.outlierDetection();
  }

  /** Whether a call that left {@code consecutive} failures in a row should check for ejection. */
  boolean shouldCheck(int consecutive) {
    int threshold = config.consecutiveFailures();
    return consecutive >= threshold && consecutive % threshold == 0 && config.isEnabled();
  }

  /** Ejects {@code e} if it still fails and the cap allows. Serial executor only. */
  void ejectionCheck(Endpoint e) {
    EndpointHealth h = e.health();
    if (e.isRemoved()
        || h.ejected
        || e.consecutiveFailures() < config.consecutiveFailures()
        || state.isClosed()) {
      return;
    }
    int members = state.endpoints.size();
    int ejected = 0;
    for (Endpoint other : state.endpoints.values()) {
      ejected += other.health().ejected ? 1 : 0;
    }
    int cap = Math.max(1, members * config.maxEjectionPercent() / 100);
    if (ejected >= cap) {
      logger.debug(
          "Service '{}': not ejecting {}: {} of {} members already ejected (cap {}%)",
          state.config.service(), e.address(), ejected, members, config.maxEjectionPercent());
      return;
    }
    long now = state.ticker.read();
    boolean quiet =
        h.lastRestoredNanos == Long.MIN_VALUE
            || now - h.lastRestoredNanos > config.maxEjectionTime().toNanos();
    h.ejections = quiet ? 1 : h.ejections + 1;
    long duration = config.ejectionNanos(h.ejections);
    h.ejectedUntilNanos = now + duration;
    h.ejected = true;
    logger.warn(
        "Service '{}': ejected {} for {} ms after {} consecutive failures (ejection #{})",
        state.config.service(),
        e.address(),
        duration / 1_000_000,
        e.consecutiveFailures(),
        h.ejections);
    state.notifyListener(l -> l.endpointEjected(e, duration));
    long until = h.ejectedUntilNanos;
    state.timer.schedule(() -> state.serial.execute(() -> restore(e, until)), duration);
    state.rebuild();
  }

  /** The ejection ending at {@code until} is over, unless {@code e} was restored meanwhile. */
  private void restore(Endpoint e, long until) {
    if (e.health().ejectedUntilNanos == until) {
      restore(e);
    }
  }

  /**
   * Ends {@code e}'s ejection now: its active health check saw it fail and pass again (Envoy's
   * {@code successful_active_health_check_uneject_host}), so a server that was unreachable for a
   * while is back as soon as it answers, not when a long ejection runs out. Serial executor only.
   */
  void restore(Endpoint e) {
    EndpointHealth h = e.health();
    if (!h.ejected) {
      return;
    }
    long now = state.ticker.read();
    h.ejected = false;
    h.lastRestoredNanos = now;
    e.resetConsecutiveFailures();
    if (e.isRemoved() || state.isClosed()) {
      return;
    }
    logger.info("Service '{}': restored {} after ejection", state.config.service(), e.address());
    state.notifyListener(l -> l.endpointRestored(e));
    state.recovered(e);
  }

  /** Reacts to a breaker state change seen by a caller. Serial executor only. */
  void breakerChanged(Endpoint e, CircuitBreaker.State from) {
    CircuitBreaker.State now = e.health().breaker.state();
    if (now == CircuitBreaker.State.OPEN) {
      scheduleProbe(e, openWaitNanos(e));
    } else if (now == CircuitBreaker.State.CLOSED && from != CircuitBreaker.State.CLOSED) {
      state.recovered(e); // its probes succeeded: ramp it up again like any other recovery
      return;
    }
    state.rebuild();
  }

  private void scheduleProbe(Endpoint e, long delayNanos) {
    state.timer.schedule(() -> state.serial.execute(() -> probe(e)), delayNanos);
  }

  private void probe(Endpoint e) {
    Breaker breaker = e.health().breaker;
    if (e.isRemoved() || state.isClosed() || breaker.state() != CircuitBreaker.State.OPEN) {
      return;
    }
    if (breaker.tryStartProbing()) {
      state.rebuild(); // now HALF_OPEN: let the picker send it probe calls
    } else {
      scheduleProbe(e, Math.max(openWaitNanos(e) / 10, 10_000_000L));
    }
  }

  private static long openWaitNanos(Endpoint e) {
    return e.health().breaker.openWaitNanos();
  }
}
