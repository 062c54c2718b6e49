package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Clusters own threads (timer, health probes) and must leave none behind. */
class ClusterLifecycleTest {

  private static List<String> switchboardThreads() {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(Thread::isAlive)
        .map(Thread::getName)
        .filter(n -> n.startsWith("switchboard-"))
        .toList();
  }

  @Test
  void close_leavesNoThreads() throws InterruptedException {
    StaticRegistry registry = StaticRegistry.of(ClusterFixture.instance(9001));
    CountDownLatch probed = new CountDownLatch(1);
    HealthCheck check =
        (instance, timeout) -> {
          probed.countDown();
          return true;
        };
    Cluster cluster =
        Cluster.builder("echo")
            .registry(registry)
            .healthCheck(
                ActiveHealthCheck.of(check)
                    .withInterval(Duration.ofMillis(10), Duration.ofMillis(10)))
            .build();
    assertThat(probed.await(10, TimeUnit.SECONDS)).isTrue();
    assertThat(switchboardThreads()).isNotEmpty();
    cluster.close();
    await().atMost(Duration.ofSeconds(10)).until(() -> switchboardThreads().isEmpty());
  }

  @Test
  void serialExecutor_runsTasksInOrder_oneAtATime_evenWhenSubmittedFromTasks() {
    SerialExecutor serial = new SerialExecutor();
    StringBuilder order = new StringBuilder();
    serial.execute(
        () -> {
          order.append('a');
          serial.execute(() -> order.append('c'));
          assertThat(serial.isCurrentThread()).isTrue();
          order.append('b');
        });
    serial.execute(
        () -> {
          throw new IllegalStateException("a failing task does not stop the next");
        });
    serial.execute(() -> order.append('d'));
    assertThat(order).hasToString("abcd");
    assertThat(serial.isCurrentThread()).isFalse();
  }
}
