package dev.switchboard.lb;

import static dev.switchboard.lb.PolicyFixtures.candidates;
import static dev.switchboard.lb.PolicyFixtures.without;
import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.BalancingPolicy.Candidates;
import dev.switchboard.lb.BalancingPolicy.PickResult;
import dev.switchboard.lb.BalancingPolicy.Picker;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Eight threads pick from each policy while another thread keeps rebuilding its picker between two
 * member sets (as the cluster does on membership changes, passing the previous picker on).
 */
class PickerConcurrencyTest {
  private static final int THREADS = 8;
  private static final int PICKS_PER_THREAD = 200_000;

  static Stream<BalancingPolicy> policies() {
    return PickerContractTest.policies();
  }

  @ParameterizedTest
  @MethodSource("policies")
  void pick_eightThreadsWithRebuilds_alwaysReturnCandidates(BalancingPolicy policy)
      throws Exception {
    int[] w = new int[40];
    for (int i = 0; i < w.length; i++) {
      w[i] = 1 + i % 7;
    }
    Candidates all = candidates(w);
    Candidates fewer = without(without(all, 5), 17);
    Set<Endpoint> members = Collections.newSetFromMap(new IdentityHashMap<>());
    Collections.addAll(members, all.endpoints());
    AtomicReference<Picker> current = new AtomicReference<>(policy.newPicker(all, null));
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch start = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(THREADS);

    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      threads.add(
          new Thread(
              () -> {
                try {
                  start.await();
                  pickLoop(current, all, members);
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                } finally {
                  done.countDown();
                }
              },
              "picker-" + t));
    }
    threads.forEach(Thread::start);
    start.countDown();
    int rebuilds = 0;
    while (done.getCount() > 0) {
      Candidates next = rebuilds % 2 == 0 ? fewer : all;
      current.set(policy.newPicker(next, current.get()));
      rebuilds++;
    }
    for (Thread t : threads) {
      t.join();
    }

    assertThat(failure.get()).isNull();
    assertThat(rebuilds).isGreaterThan(1);
    for (Endpoint e : all.endpoints()) {
      assertThat(e.inFlight()).isZero();
    }
  }

  private static void pickLoop(
      AtomicReference<Picker> current, Candidates all, Set<Endpoint> members) {
    ThreadLocalRandom random = ThreadLocalRandom.current();
    long now = 1_000_000_000L;
    for (int k = 0; k < PICKS_PER_THREAD; k++) {
      Exclusions ctx =
          Exclusions.of(
              k % 4 == 0
                  ? CallContext.DEFAULT
                  : CallContext.builder().hashKey(random.nextLong()).build());
      if (k % 16 == 1) {
        ctx.exclude(all.endpoint(random.nextInt(all.size())));
      }
      PickResult r = current.get().pick(ctx, now);
      Endpoint e = r.endpoint();
      if (!members.contains(e) || ctx.isExcluded(e)) {
        throw new AssertionError("picked " + e + " for " + ctx);
      }
      TestEndpoints.hold(e, 1);
      now += 1_000;
      TestEndpoints.releaseHeld(e, 1);
      TestEndpoints.record(e, k % 50 == 0 ? Outcome.TIMEOUT : Outcome.SUCCESS, 50_000, now);
    }
  }
}
