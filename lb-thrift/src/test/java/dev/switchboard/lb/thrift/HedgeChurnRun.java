package dev.switchboard.lb.thrift;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A measurement, not a test: callers hedging against one slow and one fast echo server on 127.0.0.1
 * for a few seconds, then the connections that cost. Run from the repository root after {@code mvn
 * -o -q -pl lb-api,lb-thrift test-compile dependency:build-classpath -Dmdep.outputFile=cp.txt}:
 *
 * <pre>
 * java -cp lb-api/target/classes:lb-thrift/target/classes:lb-thrift/target/test-classes:$(cat
 *   lb-thrift/cp.txt) dev.switchboard.lb.thrift.HedgeChurnRun [seconds] [callers] [slowMillis]
 * </pre>
 */
final class HedgeChurnRun {
  private HedgeChurnRun() {}

  public static void main(String[] args) throws Exception {
    int seconds = args.length > 0 ? Integer.parseInt(args[0]) : 4;
    int callers = args.length > 1 ? Integer.parseInt(args[1]) : 8;
    int slowMillis = args.length > 2 ? Integer.parseInt(args[2]) : 50;
    try (ThriftFixture f = new ThriftFixture()) {
      f.handler(f.start()).delayEcho(slowMillis);
      f.start();
      ThriftCluster cluster = f.cluster(BalancingPolicy.peakEwma());
      Echo.Iface echo =
          ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
              .idempotent("echo")
              .timeout(Duration.ofSeconds(10))
              .hedge(Duration.ofMillis(8), 100)
              .build();
      AtomicLong calls = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      long end = System.nanoTime() + Duration.ofSeconds(seconds).toNanos();
      List<Thread> threads = new ArrayList<>();
      for (int i = 0; i < callers; i++) {
        Thread t =
            new Thread(
                () -> {
                  while (System.nanoTime() < end) {
                    try {
                      echo.echo("x");
                      calls.incrementAndGet();
                    } catch (Exception e) {
                      failed.incrementAndGet();
                    }
                  }
                });
        t.start();
        threads.add(t);
      }
      for (Thread t : threads) {
        t.join();
      }
      PoolStats stats = cluster.poolStats();
      System.out.printf(
          "%d s, %d callers, slow server %d ms: %d calls (%d failed), hedges sent %d won %d;"
              + " connections created %d, open %d; abandoned kept %d closed %d%n",
          seconds,
          callers,
          slowMillis,
          calls.get(),
          failed.get(),
          cluster.hedgesSent(),
          cluster.hedgesWon(),
          stats.created(),
          stats.open(),
          stats.abandonedKept(),
          stats.abandonedClosed());
    }
  }
}
