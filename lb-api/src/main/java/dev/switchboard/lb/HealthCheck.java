package dev.switchboard.lb;

import java.time.Duration;

/**
 * An active probe of one instance: a TCP connect, an HTTP {@code GET /health}, a Thrift ping.
 * Called periodically for every member of a cluster on a health-check thread, never on a caller's
 * thread.
 *
 * <p>Implementations must be thread-safe and must give up within {@code timeout}. A check that
 * throws counts as a failed check.
 */
@FunctionalInterface
public interface HealthCheck {

  /**
   * Probes {@code instance}; returns whether it is healthy.
   *
   * @param timeout how long the probe may take; implementations enforce it
   */
  boolean isHealthy(ServiceInstance instance, Duration timeout);

  /** Healthy when a TCP connection to the instance's host and port opens within the timeout. */
  static HealthCheck tcpConnect() {
    return TcpConnectHealthCheck.INSTANCE;
  }
}
