package dev.switchboard.lb;

import java.time.Duration;

/** Builds endpoints outside a cluster, for picker tests in other packages. */
public final class TestEndpoints {
  private static final long DECAY = Endpoint.DEFAULT_DECAY_WINDOW.toNanos();
  private static final long PENALTY = Duration.ofSeconds(1).toNanos();

  private TestEndpoints() {}

  /** An endpoint for {@code instance}, first seen at {@code nowNanos}. */
  public static Endpoint create(ServiceInstance instance, long nowNanos) {
    return new Endpoint(instance, Breaker.create(instance.id(), null), DECAY, PENALTY, nowNanos);
  }

  /** An endpoint of service {@code svc} at 127.0.0.1:{@code port} with the given weight. */
  public static Endpoint create(int port, int weight) {
    return create(ServiceInstance.builder("svc", "127.0.0.1", port).weight(weight).build(), 0L);
  }

  /** Raises the endpoint's in-flight count by {@code n}. */
  public static void hold(Endpoint endpoint, int n) {
    for (int i = 0; i < n; i++) {
      endpoint.tryReserve(Integer.MAX_VALUE);
    }
  }

  /** Lowers the endpoint's in-flight count by {@code n}. */
  public static void releaseHeld(Endpoint endpoint, int n) {
    for (int i = 0; i < n; i++) {
      endpoint.release();
    }
  }

  /** Records one finished call with the given outcome and latency at time {@code nowNanos}. */
  public static void record(Endpoint endpoint, Outcome outcome, long latencyNanos, long nowNanos) {
    endpoint.record(outcome, latencyNanos, nowNanos);
  }
}
