package dev.switchboard.lb.samples;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.policy.BalancingPolicy;
import dev.switchboard.lb.registry.StaticRegistry;
import java.time.Duration;
import java.util.OptionalLong;
import java.util.concurrent.locks.LockSupport;

/** The README's Cluster example, compiled so it never rots. */
public final class ClusterExample {
  private ClusterExample() {}

  /** Sends one call to one of three fixed hosts, retrying elsewhere when that is safe. */
  public static String callOnce() {
    // README: cluster-example
    StaticRegistry registry =
        StaticRegistry.of(
            ServiceInstance.builder("echo", "127.0.0.1", 9091).zone("a").build(),
            ServiceInstance.builder("echo", "127.0.0.1", 9092).zone("a").build(),
            ServiceInstance.builder("echo", "127.0.0.1", 9093).zone("b").weight(50).build());

    try (Cluster cluster =
        Cluster.builder("echo")
            .registry(registry)
            .policy(BalancingPolicy.peakEwma())
            .localZone("a")
            .slowStart(Duration.ofSeconds(30))
            .build()) {
      CallContext ctx =
          CallContext.builder()
              .idempotent(true)
              .timeout(Duration.ofSeconds(2), cluster.ticker())
              .build();
      for (int attempt = 1; ; attempt++) {
        Lease lease = cluster.acquire(ctx); // picks an endpoint, counts the call in flight
        try {
          String reply = send(lease.instance(), "hello"); // your I/O here
          lease.complete(Outcome.SUCCESS);
          return reply;
        } catch (RuntimeException e) {
          lease.complete(Outcome.CONNECT_FAILURE); // classify: feeds breaker, ejection, EWMA
          OptionalLong backoff = cluster.retryDelayNanos(ctx, lease, attempt);
          if (backoff.isEmpty()) {
            throw e;
          }
          LockSupport.parkNanos(backoff.getAsLong());
        }
      }
    }
    // README: end
  }

  private static String send(ServiceInstance instance, String message) {
    return message + " from " + instance.address();
  }

  public static void main(String[] args) {
    System.out.println(callOnce());
  }
}
