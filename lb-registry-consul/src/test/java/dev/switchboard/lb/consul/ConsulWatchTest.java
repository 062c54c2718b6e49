package dev.switchboard.lb.consul;

import static dev.switchboard.lb.consul.TestConsul.instance;
import static dev.switchboard.lb.consul.TestConsul.registry;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.MembershipRecorder;
import dev.switchboard.lb.consul.testing.ConsulStandIn;
import dev.switchboard.lb.consul.testing.RecordedRequest;
import dev.switchboard.lb.testing.LogCapture;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The blocking-query loop under the stand-in's faults: members kept while the agent fails, one
 * onError per outage, recovery, and request counts that show it never spins.
 */
class ConsulWatchTest {
  private static final String A = "127.0.0.1:9001";
  private static final String B = "127.0.0.1:9002";
  private static final String C = "127.0.0.1:9003";

  private ConsulStandIn standIn;
  private ConsulRegistry writer;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  @BeforeEach
  void start() {
    standIn = ConsulStandIn.builder().deregisterCriticalMinimum(Duration.ZERO).start();
    // A long TTL: heartbeats that fail during a fault must not make the members critical.
    writer = track(registry(standIn.uri()).ttl(Duration.ofSeconds(5)).build());
    writer.register(instance("echo", 9001));
    writer.register(instance("echo", 9002));
  }

  @AfterEach
  void stop() throws Exception {
    for (AutoCloseable c : closeables) {
      c.close();
    }
    standIn.close();
  }

  private <T extends AutoCloseable> T track(T closeable) {
    closeables.add(closeable);
    return closeable;
  }

  /** A watch on "echo" through its own registry. */
  private ConsulWatch watch(MembershipRecorder recorder, ConsulRegistry.Builder builder) {
    return (ConsulWatch) track(builder.build()).watch("echo", recorder);
  }

  /** A watch on "echo" with the test timings, once it delivered A and B. */
  private ConsulWatch watch(MembershipRecorder recorder) {
    ConsulWatch watch = watch(recorder, registry(standIn.uri()));
    recorder.awaitIds(A, B);
    return watch;
  }

  private List<RecordedRequest> healthRequestsSince(long nanos) {
    return standIn.requests().stream()
        .filter(r -> r.path().startsWith("/v1/health/service/echo") && r.nanos() >= nanos)
        .toList();
  }

  @Test
  void noChange_queriesBlockForTheirWait_nothingIsDelivered_eachAnswerConfirms() {
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch = watch(recorder);
    int delivered = recorder.size();
    int confirmed = recorder.confirmations();
    long sent = watch.requests();
    long start = System.nanoTime();

    await()
        .during(TestConsul.WAIT.multipliedBy(3))
        .atMost(TestConsul.WAIT.multipliedBy(5))
        .until(() -> recorder.size() == delivered);

    long elapsed = System.nanoTime() - start;
    assertThat(watch.requests() - sent)
        .as("one query per wait, woken for nothing")
        .isBetween(2L, elapsed / TestConsul.WAIT.toNanos() + 2);
    assertThat(healthRequestsSince(start))
        .allSatisfy(r -> assertThat(r.queryParameter("wait")).isEqualTo("500ms"));
    // Each unchanged answer tells the listener the members still hold (registry freshness).
    assertThat(recorder.confirmations() - confirmed).isGreaterThanOrEqualTo(1);
  }

  @Test
  void indexGoesBackwards_watchRestartsFromZero_andSeesLaterChangesAtOnce() {
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch =
        watch(recorder, registry(standIn.uri()).blockingWait(Duration.ofSeconds(1)));
    recorder.awaitIds(A, B);
    int from = recorder.size();
    long rewoundAt = System.nanoTime();

    // The watch holds an index the agent will not reach for a while: its query blocks until the
    // wait runs out, then it sees the lower index and restarts without one.
    standIn.rewindIndex();
    writer.register(instance("echo", 9003));
    recorder.awaitIds(A, B, C);
    await("restarted with a query without index")
        .atMost(Duration.ofSeconds(3))
        .until(
            () ->
                healthRequestsSince(rewoundAt).stream()
                    .anyMatch(r -> r.queryParameter("index") == null));
    awaitNextQuery(watch);

    long changedAt = System.nanoTime();
    writer.register(instance("echo", 9004));
    recorder.awaitIds(A, B, C, "127.0.0.1:9004");
    long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - changedAt);
    System.out.printf(
        "[index] went backwards -> detected when the 1 s wait ran out; the next change seen after"
            + " %d ms%n",
        millis);
    assertThat(millis)
        .as("blocking on the fresh index (a stale one would block for the whole 1 s wait)")
        .isLessThan(500);
    assertThat(recorder.snapshots().subList(from, recorder.size()))
        .allMatch(s -> s.ids().containsAll(Set.of(A, B)));
    assertThat(recorder.errors()).isEmpty();
  }

  /** Waits until the watch sent its next query, so the next change meets a blocked query. */
  private static void awaitNextQuery(ConsulWatch watch) {
    long sent = watch.requests();
    await()
        .atMost(Duration.ofSeconds(5))
        .pollInterval(Duration.ofMillis(1))
        .until(() -> watch.requests() > sent);
  }

  @Test
  void indexZero_neverBlocksOnZero_rateLimited_membersKept_changesSeen() {
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch =
        watch(recorder, registry(standIn.uri()).minWatchInterval(Duration.ofMillis(100)));
    recorder.awaitIds(A, B);
    int delivered = recorder.size();

    standIn.reportIndexZero(true); // every answer says index 0: a naive client busy-loops
    long start = System.nanoTime();
    long sent = watch.requests();
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(2))
        .until(() -> recorder.size() == delivered);
    long queries = watch.requests() - sent;
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);

    System.out.printf(
        "[index 0] %d queries in %d ms with minWatchInterval 100 ms%n", queries, elapsedMillis);
    assertThat(queries)
        .as("answers come at once, but the loop is rate-limited")
        .isBetween(3L, elapsedMillis / 100 + 2);
    assertThat(healthRequestsSince(start))
        .filteredOn(r -> r.queryParameter("index") != null)
        .allSatisfy(r -> assertThat(Long.parseLong(r.queryParameter("index"))).isPositive());
    writer.register(instance("echo", 9003));
    recorder.awaitIds(A, B, C);

    standIn.reportIndexZero(false);
    recorder.awaitIds(A, B, C);
    long blockingFrom = watch.requests();
    int settled = recorder.size();
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(2))
        .until(() -> recorder.size() == settled);
    assertThat(watch.requests() - blockingFrom).as("blocking again").isLessThanOrEqualTo(4);
    assertThat(recorder.errors()).isEmpty();
  }

  @Test
  void serverErrors_jitteredExponentialBackoff_keepLastKnown_oneError_thenRecover() {
    MembershipRecorder recorder = new MembershipRecorder();
    watch(recorder);
    int delivered = recorder.size();

    standIn.failRequests(500, r -> r.path().startsWith("/v1/health/"));
    long start = System.nanoTime();
    await().atMost(Duration.ofSeconds(3)).until(() -> recorder.errors().size() == 1);
    await("members kept while failing")
        .during(Duration.ofMillis(1500))
        .atMost(Duration.ofSeconds(3))
        .until(() -> recorder.size() == delivered && recorder.errors().size() == 1);

    // The failed polls (the query blocked when the fault began had passed the fault already).
    List<RecordedRequest> failed = healthRequestsSince(start);
    List<Long> gapsMillis = new ArrayList<>(); // gap n follows failure n
    for (int i = 1; i < failed.size(); i++) {
      gapsMillis.add(
          TimeUnit.NANOSECONDS.toMillis(failed.get(i).nanos() - failed.get(i - 1).nanos()));
    }
    System.out.printf("[backoff] gaps between failed polls (ms): %s%n", gapsMillis);
    assertThat(failed.size()).as("no spinning: backoff 20 ms doubling to 200 ms").isBetween(5, 25);
    long initial = TestConsul.BACKOFF_INITIAL.toMillis();
    long max = TestConsul.BACKOFF_MAX.toMillis();
    for (int n = 1; n <= gapsMillis.size(); n++) {
      long ceiling = Math.min(max, initial << Math.min(n - 1, 20));
      assertThat(gapsMillis.get(n - 1))
          .as("gap after failure %d: between half and all of %d ms", n, ceiling)
          .isBetween(ceiling / 2 - 2, ceiling + 100); // + scheduling and the round trip
    }
    assertThat(new HashSet<>(gapsMillis.subList(gapsMillis.size() - 3, gapsMillis.size())))
        .as("jittered at the cap")
        .hasSizeGreaterThan(1);
    assertThat(recorder.errors().get(0).getMessage())
        .contains("HTTP 500")
        .contains("keeping the 2 last known members of service 'echo'");

    standIn.clearFaults();
    await("recovered: the members delivered again, ending the degraded state")
        .atMost(Duration.ofSeconds(3))
        .until(() -> recorder.size() == delivered + 1);
    assertThat(recorder.latestIds()).isEqualTo(Set.of(A, B));
    assertThat(recorder.overlapped()).isFalse();
  }

  @Test
  void connectionRefused_keepLastKnown_backsOff_thenRecovers() {
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch = watch(recorder);
    int delivered = recorder.size();

    standIn.stop();
    await().atMost(Duration.ofSeconds(3)).until(() -> recorder.errors().size() == 1);
    long sent = watch.requests();
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(2))
        .until(() -> recorder.size() == delivered && recorder.errors().size() == 1);
    long attempts = watch.requests() - sent;
    assertThat(attempts).as("refused attempts in 1 s, backing off to 200 ms").isBetween(3L, 15L);
    // Refused, or cut if the query in flight had not been answered when the agent stopped.
    assertThat(recorder.errors().get(0).getMessage())
        .containsAnyOf("connection refused", "connection failed");

    standIn.resume();
    await().atMost(Duration.ofSeconds(3)).until(() -> recorder.size() == delivered + 1);
    assertThat(recorder.latestIds()).isEqualTo(Set.of(A, B));
  }

  @Test
  void slowResponses_timeOut_keepLastKnown_thenRecover() {
    MembershipRecorder recorder = new MembershipRecorder();
    watch(recorder, registry(standIn.uri()).requestTimeout(Duration.ofMillis(300)));
    recorder.awaitIds(A, B);
    int delivered = recorder.size();

    standIn.delayResponses(Duration.ofSeconds(5)); // longer than wait + wait/16 + 300 ms
    await().atMost(Duration.ofSeconds(4)).until(() -> recorder.errors().size() == 1);
    assertThat(recorder.errors().get(0).getMessage()).contains("timed out");
    assertThat(recorder.size()).isEqualTo(delivered);

    standIn.clearFaults();
    await().atMost(Duration.ofSeconds(3)).until(() -> recorder.size() == delivered + 1);
    assertThat(recorder.latestIds()).isEqualTo(Set.of(A, B));
  }

  @Test
  void whollyMalformedBody_isAFailedPoll_keepLastKnown_backsOff_thenRecover() {
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch = watch(recorder);
    int delivered = recorder.size();

    standIn.healthBody("<html><body>502 Bad Gateway</body></html>");
    await().atMost(Duration.ofSeconds(3)).until(() -> recorder.errors().size() == 1);
    long sent = watch.requests();
    standIn.healthBody("{\"not\":\"a list\"}");
    await()
        .during(Duration.ofSeconds(1))
        .atMost(Duration.ofSeconds(2))
        .until(() -> recorder.size() == delivered && recorder.errors().size() == 1);
    assertThat(watch.requests() - sent)
        .as("backing off (and blocking: the index stays), not spinning")
        .isBetween(1L, 15L);
    assertThat(recorder.errors().get(0).getMessage()).contains("malformed response: not JSON");

    standIn.clearFaults();
    await().atMost(Duration.ofSeconds(3)).until(() -> recorder.size() == delivered + 1);
    assertThat(recorder.latestIds()).isEqualTo(Set.of(A, B));
  }

  @Test
  void malformedEntries_skippedWithOneWarningEach_othersDelivered() {
    List<String> junk =
        List.of(
            "\"just a string\"",
            "{\"Node\":{\"Node\":\"n\"}}",
            "{\"Service\":{\"ID\":\"no-port\",\"Address\":\"h\"}}",
            "{\"Service\":{\"ID\":\"bad-port\",\"Address\":\"h\",\"Port\":\"eighty\"}}",
            "{\"Service\":{\"ID\":\"no-address\",\"Address\":\"\",\"Port\":80},\"Node\":{}}",
            "{\"Service\":{\"ID\":\"heavy\",\"Address\":\"h\",\"Port\":80,\"Meta\":{\"weight\":\"x\"}}}");
    MembershipRecorder recorder = new MembershipRecorder();
    try (LogCapture log = new LogCapture()) {
      ConsulWatch watch = watch(recorder);
      for (String entry : junk) {
        standIn.addRawEntry("echo", entry);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> watch.malformedWarnings() == junk.size());

      // Churn among the good members: every answer repeats the junk, nobody warns again.
      for (int port = 9100; port < 9103; port++) {
        var extra = writer.register(instance("echo", port));
        recorder.awaitIds(A, B, "127.0.0.1:" + port);
        extra.close();
        recorder.awaitIds(A, B);
      }

      assertThat(watch.malformedWarnings()).isEqualTo(junk.size());
      assertThat(log.lines("Skipping malformed Consul entry of service 'echo'"))
          .hasSize(junk.size());
      assertThat(recorder.errors()).isEmpty();
    }
  }

  @Test
  void changesFasterThanTheMinimumInterval_areRateLimited_theLastStateIsDelivered() {
    // Registered by hand, without a heartbeat: a registrant's heartbeat could set the check
    // passing again after the last "critical" below, and the watch would rightly keep C.
    TestConsul.put(
        standIn.uri(),
        null,
        "/v1/agent/service/register",
        "{\"ID\":\""
            + C
            + "\",\"Name\":\"echo\",\"Address\":\"127.0.0.1\",\"Port\":9003,"
            + "\"Check\":{\"TTL\":\"60s\"}}");
    standIn.setCheckStatus("service:" + C, "passing");
    MembershipRecorder recorder = new MembershipRecorder();
    ConsulWatch watch =
        watch(recorder, registry(standIn.uri()).minWatchInterval(Duration.ofMillis(100)));
    recorder.awaitIds(A, B, C);
    long sent = watch.requests();
    long start = System.nanoTime();

    for (int i = 0; i < 200; i++) { // a flapping check: 200 changes in about a second
      standIn.setCheckStatus("service:" + C, i % 2 == 0 ? "critical" : "passing");
      LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(5)); // pacing the load, not waiting
    }
    standIn.setCheckStatus("service:" + C, "critical");

    recorder.awaitIds(A, B);
    long elapsedMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    long queries = watch.requests() - sent;
    System.out.printf(
        "[rate limit] 201 changes in %d ms -> %d queries, %d snapshots%n",
        elapsedMillis, queries, recorder.size());
    assertThat(queries).isLessThanOrEqualTo(elapsedMillis / 100 + 2);
  }

  @Test
  void sameServiceIdOnTwoNodes_bothMembers() {
    TestConsul.catalogRegister(
        standIn.uri(),
        null,
        "node-a",
        "node-a.test",
        "{\"ID\":\"echo-1\",\"Service\":\"echo\",\"Port\":80}");
    TestConsul.catalogRegister(
        standIn.uri(),
        null,
        "node-b",
        "node-b.test",
        "{\"ID\":\"echo-1\",\"Service\":\"echo\",\"Port\":80}");
    MembershipRecorder recorder = new MembershipRecorder();
    track(registry(standIn.uri()).build()).watch("echo", recorder);

    recorder.awaitIds(A, B, "echo-1@node-a", "echo-1@node-b");
    assertThat(recorder.latest("echo-1@node-b").orElseThrow().host()).isEqualTo("node-b.test");
  }
}
