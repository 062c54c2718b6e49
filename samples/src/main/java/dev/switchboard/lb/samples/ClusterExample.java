package dev.switchboard.lb.samples;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import java.time.Duration;

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
      // One logical call: the engine picks an endpoint per attempt, finishes each lease with the
      // attempt's outcome (which feeds the breaker, ejection and latency average) and retries
      // elsewhere when safe, within the deadline and the retry budget.
      return cluster.newCall(ctx).run(lease -> send(lease.instance(), "hello"));
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
