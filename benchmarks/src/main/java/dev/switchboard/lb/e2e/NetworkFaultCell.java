package dev.switchboard.lb.e2e;

import dev.switchboard.lb.testing.LabHost;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.OptionalDouble;
import org.jspecify.annotations.Nullable;

/**
 * Runs one cell of a network fault scenario: fresh servers, the victim among them on a {@link
 * LabHost} (reached at the host's address, registered from inside it), Switchboard at its defaults
 * or the tuned HAProxy behind a retrying client, a warm-up, then the measured window, which starts
 * with the fault: the whole window is "during the event". The partition is healed a quarter of the
 * way through (so that a server ejected for the default 30 s can come back within a 40 s window);
 * every fault is healed once the window has ended and the callers have stopped, before the servers
 * are asked what they served. Not thread-safe.
 */
final class NetworkFaultCell {
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(30);

  private final E2eOptions options;
  private final String zookeeper;
  private final LabHost host;
  private final @Nullable Path haproxyExecutable;

  /**
   * @param zookeeper the connect string, reachable from this JVM and from inside {@code host}
   * @param host where the victim runs; healed after every cell
   */
  NetworkFaultCell(
      E2eOptions options, String zookeeper, LabHost host, @Nullable Path haproxyExecutable) {
    this.options = options;
    this.zookeeper = zookeeper;
    this.host = host;
    this.haproxyExecutable = haproxyExecutable;
  }

  /** Runs the cell; {@code index} keeps its ZooKeeper path apart from other cells'. */
  Cell.Result run(Scenario scenario, Mode mode, int index)
      throws IOException, InterruptedException {
    if (!scenario.isNetworkFault()) {
      throw new IllegalArgumentException(scenario + " is not a network fault scenario");
    }
    String basePath = "/switchboard-e2e/cell-" + index;
    host.heal();
    try (Fleet fleet = Fleet.start(options.servers(), zookeeper, basePath, host, zookeeper)) {
      HaProxy haproxy = null;
      LoadTarget target = null;
      try {
        if (mode == Mode.HAPROXY_TUNED) {
          if (haproxyExecutable == null) {
            throw new IllegalStateException("HAProxy is not installed");
          }
          haproxy = HaProxy.start(haproxyExecutable, fleet.addresses(), true);
          for (int i = 0; i < fleet.size(); i++) {
            haproxy.awaitUp(i, READY_TIMEOUT);
          }
          target = SocketTarget.retryingThrough(haproxy, SwitchboardTarget.defaultDeadline());
        } else if (mode == Mode.SWITCHBOARD_DEFAULTS) {
          SwitchboardTarget sb =
              SwitchboardTarget.atDefaults(zookeeper, basePath, fleet.addresses());
          sb.awaitAll(READY_TIMEOUT);
          target = sb;
        } else {
          throw new IllegalArgumentException(mode + " does not run the network fault scenarios");
        }
        return measure(scenario, mode, fleet, target);
      } finally {
        host.heal();
        if (target != null) {
          target.close();
        }
        if (haproxy != null) {
          haproxy.close();
        }
      }
    }
  }

  private Cell.Result measure(Scenario scenario, Mode mode, Fleet fleet, LoadTarget target)
      throws InterruptedException {
    String payload = "x".repeat(options.payload());
    long[] before = new long[fleet.size()];
    long[] after = new long[fleet.size()];
    ClosedLoop.Measurement m;
    LastRoutedWatch watch;
    String note;
    try (ClosedLoop loop = ClosedLoop.start(target, options.callers(), payload)) {
      Cell.park(options.warmUp());
      fleet.served(before);
      loop.beginMeasurement();
      // HAProxy's statistics come over a socket: poll it less often than Switchboard's counters.
      watch = LastRoutedWatch.start(target, Scenario.VICTIM, mode.isHaproxy() ? 10 : 1);
      switch (scenario) {
        case VANISH -> host.blackHole();
        case PARTITION -> host.partitionFromClients(fleet.port(Scenario.VICTIM));
        case LOSS -> host.loss(Scenario.LOSS_PERCENT);
        default -> throw new IllegalStateException(scenario.toString());
      }
      if (scenario == Scenario.PARTITION) {
        Duration quarter = options.roundDuration().dividedBy(4);
        Cell.park(quarter);
        host.heal();
        watch.healed();
        Cell.park(options.roundDuration().minus(quarter));
      } else {
        Cell.park(options.roundDuration());
      }
      m = loop.endMeasurement();
      watch.close();
      loop.close(); // no more calls: what the servers served is what the window sent
      host.heal();
      if (target instanceof SocketTarget socket) {
        // A failed attempt through HAProxy was on a connection it had given to the victim.
        watch.noteAttempt(socket.lastFailedAttemptNanos());
      }
      note = loop.firstError();
      if (!watch.problem().isEmpty()) {
        note = (note.isEmpty() ? "" : note + "; ") + "last-routed watch failed: " + watch.problem();
      }
      fleet.served(after);
    }
    long all = 0;
    for (int i = 0; i < fleet.size(); i++) {
      all += after[i] - before[i];
    }
    double back = watch.millisBackAfterHeal();
    return new Cell.Result(
        m.latencyNanos(),
        m.succeeded(),
        m.failed(),
        m.elapsedNanos(),
        m.cpuNanos(),
        0,
        OptionalDouble.of(watch.millisToLastAttempt()),
        back >= 0 ? OptionalDouble.of(back) : OptionalDouble.empty(),
        after[Scenario.VICTIM] - before[Scenario.VICTIM],
        all,
        note);
  }
}
