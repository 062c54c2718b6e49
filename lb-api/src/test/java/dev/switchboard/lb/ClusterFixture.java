package dev.switchboard.lb;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

/** A static registry and a fake clock, with clusters built on both. For tests. */
final class ClusterFixture {
  static final String SERVICE = "echo";

  final FakeClock clock = new FakeClock();
  final StaticRegistry registry = new StaticRegistry();
  final AtomicInteger pickerBuilds = new AtomicInteger();

  /** A member of {@link #SERVICE} at 127.0.0.1:{@code port}. */
  static ServiceInstance instance(int port) {
    return ServiceInstance.builder(SERVICE, "127.0.0.1", port).build();
  }

  static ServiceInstance instance(int port, String zone) {
    return ServiceInstance.builder(SERVICE, "127.0.0.1", port).zone(zone).build();
  }

  /** Adds members on ports {@code first}, {@code first + 1}, ... */
  List<ServiceInstance> addMembers(int first, int count) {
    List<ServiceInstance> added = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ServiceInstance instance = instance(first + i);
      registry.add(instance);
      added.add(instance);
    }
    return added;
  }

  /** A builder on the fake clock, with debouncing off and pickers counted. */
  Cluster.Builder builder() {
    return builder(BalancingPolicy.roundRobin());
  }

  Cluster.Builder builder(BalancingPolicy policy) {
    BalancingPolicy counting =
        BalancingPolicy.of(
            policy.name(),
            (candidates, previous) -> {
              pickerBuilds.incrementAndGet();
              return policy.newPicker(candidates, previous);
            });
    return Cluster.builder(SERVICE)
        .registry(registry)
        .policy(counting)
        .updateDebounce(java.time.Duration.ZERO)
        .ticker(clock)
        .timer(clock)
        .breakerClock(clock.clock());
  }

  /** Acquires and completes one call with {@code outcome}; returns the endpoint's address. */
  static String call(Cluster cluster, Outcome outcome) {
    try (Lease lease = cluster.acquire()) {
      lease.complete(outcome);
      return lease.endpoint().address();
    }
  }

  /** A builder with breakers and ejection off, so that only the retry budget limits retries. */
  Cluster.Builder budgetOnly(RetryPolicy policy) {
    return builder()
        .retryPolicy(policy)
        .disableCircuitBreaker()
        .outlierDetection(OutlierDetection.disabled());
  }

  /**
   * Makes {@code calls} idempotent calls whose first attempt times out and whose retry answers;
   * returns how many were retried.
   */
  static int retriedAfterTimeout(Cluster cluster, int calls) {
    int retried = 0;
    for (int i = 0; i < calls; i++) {
      int[] attempts = {0};
      cluster
          .newCall(CallContext.builder().idempotent(true).build())
          .run(
              lease -> {
                if (++attempts[0] == 1) {
                  lease.complete(Outcome.TIMEOUT);
                }
                return "answered";
              });
      retried += attempts[0] - 1;
    }
    return retried;
  }
}
