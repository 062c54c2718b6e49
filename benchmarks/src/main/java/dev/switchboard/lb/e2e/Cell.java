package dev.switchboard.lb.e2e;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalDouble;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.HdrHistogram.Histogram;
import org.jspecify.annotations.Nullable;

/**
 * Runs one (scenario, mode) cell: fresh servers, a fresh HAProxy or Switchboard client, a warm-up,
 * then the measured window with the scenario's event, then everything stopped. Not thread-safe.
 */
final class Cell {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  private final E2eOptions options;
  private final String zookeeper;
  private final @Nullable Path haproxyExecutable;

  Cell(E2eOptions options, String zookeeper, @Nullable Path haproxyExecutable) {
    this.options = options;
    this.zookeeper = zookeeper;
    this.haproxyExecutable = haproxyExecutable;
  }

  /**
   * What one run of a cell saw.
   *
   * @param latencyNanos latencies of the successful calls in the measured window
   * @param succeeded successful calls
   * @param failed failed calls
   * @param elapsedNanos the measured window
   * @param clientCpuNanos CPU time the harness JVM (the client side) used in the window
   * @param serverCpuNanos CPU time the servers used in the window (steady, slow and CPU scenarios;
   *     a server killed or restarted in the window makes it meaningless)
   * @param deadServerMillis kill and network fault scenarios: from the fault to the last attempt on
   *     the faulty server (before any heal)
   * @param backAfterHealMillis partition scenario: from the heal to the first attempt on the server
   *     again, if one came
   * @param victimServed slow and CPU scenarios: calls the victim server served in the window
   * @param allServed slow and CPU scenarios: calls every server served in the window
   * @param firstError the first failure, or empty
   */
  record Result(
      Histogram latencyNanos,
      long succeeded,
      long failed,
      long elapsedNanos,
      long clientCpuNanos,
      long serverCpuNanos,
      OptionalDouble deadServerMillis,
      OptionalDouble backAfterHealMillis,
      long victimServed,
      long allServed,
      String firstError) {}

  /** Runs the cell; {@code index} keeps its ZooKeeper path apart from other cells'. */
  Result run(Scenario scenario, Mode mode, int index) throws IOException, InterruptedException {
    String basePath = "/switchboard-e2e/cell-" + index;
    try (Fleet fleet = Fleet.start(options.servers(), zookeeper, basePath)) {
      HaProxy haproxy = null;
      LoadTarget target = null;
      try {
        if (mode == Mode.HAPROXY) {
          haproxy = HaProxy.start(requireHaproxy(), fleet.addresses(), false);
          target = SocketTarget.through(haproxy);
        } else if (mode == Mode.DIRECT) {
          target = SocketTarget.direct(fleet.port(0));
        } else if (mode == Mode.DIRECT_SPREAD) {
          target = SocketTarget.spread(fleet.ports());
        } else {
          SwitchboardTarget sb =
              new SwitchboardTarget(
                  zookeeper,
                  basePath,
                  mode.policy,
                  mode.hedge,
                  fleet.addresses(),
                  options.callers());
          sb.awaitAll(READY_TIMEOUT);
          target = sb;
        }
        if (scenario == Scenario.SLOW) {
          fleet.slow(Scenario.VICTIM, Scenario.SLOW_MILLIS);
        } else if (scenario == Scenario.CPU_BURN) {
          fleet.burn(Scenario.VICTIM);
        }
        return measure(scenario, mode, fleet, target);
      } finally {
        if (target != null) {
          target.close();
        }
        if (haproxy != null) {
          haproxy.close();
        }
      }
    }
  }

  Path requireHaproxy() {
    if (haproxyExecutable == null) {
      throw new IllegalStateException("HAProxy is not installed");
    }
    return haproxyExecutable;
  }

  private Result measure(Scenario scenario, Mode mode, Fleet fleet, LoadTarget target)
      throws IOException, InterruptedException {
    String payload = "x".repeat(options.payload());
    long[] servedBefore = new long[fleet.size()];
    long[] servedAfter = new long[fleet.size()];
    ClosedLoop.Measurement m;
    OptionalDouble deadMillis = OptionalDouble.empty();
    String watchProblem = "";
    long serverCpu;
    String note;
    try (ClosedLoop loop = ClosedLoop.start(target, options.callers(), payload)) {
      park(options.warmUp());
      if (scenario.reportsShare()) {
        fleet.served(servedBefore);
      }
      long serverCpuBefore = fleet.cpuNanos();
      loop.beginMeasurement();
      long start = System.nanoTime();
      switch (scenario) {
        case KILL -> {
          LastRoutedWatch watch = killHalfWay(mode, fleet, target, loop);
          deadMillis = OptionalDouble.of(watch.millisToLastAttempt());
          watchProblem = watch.problem();
        }
        case ROLLING_RESTART -> rollingRestart(fleet, target, start);
        default -> park(options.roundDuration());
      }
      m = loop.endMeasurement();
      serverCpu = fleet.cpuNanos() - serverCpuBefore;
      note = loop.firstError();
      if (!watchProblem.isEmpty()) {
        note = (note.isEmpty() ? "" : note + "; ") + "dead-server watch failed: " + watchProblem;
      }
      if (scenario.reportsShare()) {
        fleet.served(servedAfter);
      }
    }
    long all = 0;
    for (int i = 0; i < fleet.size(); i++) {
      all += servedAfter[i] - servedBefore[i];
    }
    long victim = servedAfter[Scenario.VICTIM] - servedBefore[Scenario.VICTIM];
    return new Result(
        m.latencyNanos(),
        m.succeeded(),
        m.failed(),
        m.elapsedNanos(),
        m.cpuNanos(),
        serverCpu,
        deadMillis,
        OptionalDouble.empty(),
        victim,
        all,
        note);
  }

  /**
   * Kills the victim half way through the window and watches how long it still gets attempts;
   * returns the (stopped) watch.
   */
  private LastRoutedWatch killHalfWay(Mode mode, Fleet fleet, LoadTarget target, ClosedLoop loop)
      throws InterruptedException {
    Duration half = options.roundDuration().dividedBy(2);
    park(half);
    // HAProxy's statistics come over a socket: poll it less often than Switchboard's counters.
    LastRoutedWatch watch =
        LastRoutedWatch.start(target, Scenario.VICTIM, mode == Mode.HAPROXY ? 10 : 1);
    fleet.kill(Scenario.VICTIM);
    park(options.roundDuration().minus(half));
    watch.close();
    if (mode == Mode.HAPROXY) {
      // A call that failed was on a connection HAProxy had given to the dead server.
      watch.noteAttempt(loop.lastFailureNanos());
    }
    return watch;
  }

  /**
   * After a fifth of the window, restarts each server in turn through its drain path, waiting until
   * the mode sends it calls again before the next; the window lasts at least the cell's duration
   * and ends no sooner than a second after the last restart.
   */
  private void rollingRestart(Fleet fleet, LoadTarget target, long start)
      throws IOException, InterruptedException {
    park(options.roundDuration().dividedBy(5));
    for (int i = 0; i < fleet.size(); i++) {
      fleet.restart(i);
      target.awaitServing(i, READY_TIMEOUT);
    }
    long end =
        Math.max(start + options.roundDuration().toNanos(), System.nanoTime() + 1_000_000_000L);
    park(Duration.ofNanos(Math.max(0, end - System.nanoTime())));
  }

  static void park(Duration d) {
    long deadline = System.nanoTime() + d.toNanos();
    for (long left = d.toNanos(); left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(Math.min(left, TimeUnit.MILLISECONDS.toNanos(100)));
    }
  }
}
