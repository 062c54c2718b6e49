package dev.switchboard.lb.samples;

import dev.switchboard.lb.Subset;
import dev.switchboard.lb.samples.echo.Echo;
import dev.switchboard.lb.thrift.ThriftClients;
import dev.switchboard.lb.thrift.ThriftCluster;
import dev.switchboard.lb.thrift.ThriftInterceptor;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import org.apache.thrift.TException;
import org.apache.thrift.async.AsyncMethodCallback;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The README's Thrift client examples beyond the basic proxy: per-method configuration, an
 * interceptor, an asynchronous call, a hash key and a subset. Compiled so they never rot, and run
 * by {@code ThriftClientExampleTest}.
 */
public final class ThriftClientExample {
  private static final Logger logger = LoggerFactory.getLogger(ThriftClientExample.class);

  private ThriftClientExample() {}

  /** A proxy whose methods each have their own deadline, retries and hedging. */
  public static Echo.Iface perMethod(ThriftCluster cluster) {
    // README: thrift-methods
    Echo.Iface echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .timeout(Duration.ofSeconds(2)) // every method without its own
            .method(
                "echo",
                m ->
                    m.timeout(Duration.ofMillis(200))
                        .idempotent(true) // retried on another server after a timeout
                        .maxAttempts(3)
                        .hedge(Duration.ofMillis(20), 10)) // 2nd server after 20 ms, ≤ 10% extra
            .method("sleep", m -> m.timeout(Duration.ofSeconds(30)).maxAttempts(1))
            .build();
    // README: end
    return echo;
  }

  // README: thrift-interceptor
  /** Logs each attempt: the method, the picked server, how it ended and how long it took. */
  static final ThriftInterceptor LOGGING =
      chain -> {
        long start = System.nanoTime();
        String outcome = "failed";
        try {
          Object result = chain.proceed(chain.args());
          outcome = "ok";
          return result;
        } finally {
          logger.info(
              "{} attempt {} on {}: {} in {} µs",
              chain.method().getName(),
              chain.attempt(),
              chain.endpoint().address(),
              outcome,
              (System.nanoTime() - start) / 1_000);
        }
      };

  /** Adds the caller's token to every echo: an interceptor may amend the arguments. */
  static final ThriftInterceptor AUTH =
      chain ->
          chain.method().getName().equals("echo")
              ? chain.proceed(new Object[] {chain.args()[0] + "?token=" + currentToken()})
              : chain.proceed(chain.args());

  public static Echo.Iface intercepted(ThriftCluster cluster) {
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .interceptor(LOGGING) // runs first, around each attempt
        .interceptor(AUTH)
        .build();
  }

  // README: end

  static String currentToken() {
    return "s3cr3t";
  }

  /**
   * An echo through the non-blocking proxy, as a future: no thread waits for it (the cluster's
   * selector thread sends and reads it).
   */
  public static CompletableFuture<String> echoAsync(ThriftCluster cluster, String message)
      throws TException {
    // README: thrift-async
    Echo.AsyncIface echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .idempotent("echo")
            .buildAsync(Echo.AsyncIface.class, Echo.AsyncClient::new);
    CompletableFuture<String> reply = new CompletableFuture<>();
    echo.echo(
        message,
        new AsyncMethodCallback<>() {
          @Override
          public void onComplete(String response) { // on the selector thread: do not block here
            reply.complete(response);
          }

          @Override
          public void onError(Exception e) {
            reply.completeExceptionally(e);
          }
        });
    // README: end
    return reply;
  }

  /**
   * A proxy for a cluster under {@code BalancingPolicy.consistentHash()}: each user's calls go to
   * one server.
   */
  public static Echo.Iface byUser(ThriftCluster cluster) {
    // README: thrift-hash-key
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .hashKey("echo", args -> args[0]) // echo(user): one server per user
        .build();
    // README: end
  }

  /** A proxy that reaches only version-2 servers, and for echo only the caller's tenant's. */
  public static Echo.Iface canary(ThriftCluster cluster) {
    // README: thrift-subset
    return ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
        .subset(Subset.of("version", "2")) // servers registered with metadata version=2
        .method("echo", m -> m.subset(args -> Subset.of("tenant", (String) args[0])))
        .build();
    // README: end
  }
}
