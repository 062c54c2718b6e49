package dev.switchboard.lb;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a cluster's {@link ActiveHealthCheck} every interval on a small pool of daemon threads and
 * applies the results on the serial executor with rise/fall thresholds. A member whose previous
 * probe has not returned is not probed again.
 */
final class HealthChecker implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(HealthChecker.class);

  private final ClusterState state;
  private final ActiveHealthCheck config;
  private final OutlierDetector outliers;
  private final ExecutorService probes;
  private final Set<Endpoint> running = new HashSet<>(); // serial executor only
  private volatile boolean closed;

  HealthChecker(ClusterState state, ActiveHealthCheck config, OutlierDetector outliers) {
    this.state = state;
    this.outliers = outliers;
    this.config = config;
    AtomicInteger n = new AtomicInteger();
    String name = "switchboard-health-" + state.config.service() + "-";
    this.probes =
        new ThreadPoolExecutor(
            4,
            4,
            30,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, name + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    ((ThreadPoolExecutor) probes).allowCoreThreadTimeOut(true);
  }

  void start() {
    schedule(0);
  }

  private void schedule(long delayNanos) {
    if (!closed) {
      state.timer.schedule(() -> state.serial.execute(this::round), delayNanos);
    }
  }

  private void round() {
    if (closed || state.isClosed()) {
      return;
    }
    List<Endpoint> due = new ArrayList<>();
    for (Endpoint e : state.endpoints.values()) {
      if (running.add(e)) {
        due.add(e);
      }
    }
    for (Endpoint e : due) {
      try {
        probes.execute(() -> probe(e));
      } catch (RejectedExecutionException closing) {
        running.remove(e);
      }
    }
    schedule(config.interval().toNanos());
  }

  private void probe(Endpoint e) {
    boolean healthy;
    try {
      healthy = config.check().isHealthy(e.instance(), config.timeout());
    } catch (RuntimeException ex) {
      logger.debug("Health check of {} threw", e.address(), ex);
      healthy = false;
    }
    boolean result = healthy;
    state.serial.execute(() -> apply(e, result));
  }

  private void apply(Endpoint e, boolean healthy) {
    running.remove(e);
    if (closed || e.isRemoved()) {
      return;
    }
    EndpointHealth h = e.health();
    if (healthy) {
      h.checkFailures = 0;
      h.checkSuccesses++;
      if (h.checkFailing && h.checkSuccesses >= config.healthyThreshold()) {
        h.checkFailing = false;
        if (state.config.slowStartNanos() > 0) {
          e.startSlowStart(state.ticker.read());
        }
        logger.info("Service '{}': {} passes its health check again", service(), e.address());
        if (h.ejected) {
          outliers.restore(e); // the check saw it fail and recover: no need to wait out ejection
        }
        state.requestRebuild();
      }
    } else {
      h.checkSuccesses = 0;
      h.checkFailures++;
      if (!h.checkFailing && h.checkFailures >= config.unhealthyThreshold()) {
        h.checkFailing = true;
        logger.warn(
            "Service '{}': {} failed {} health checks in a row",
            service(),
            e.address(),
            h.checkFailures);
        state.requestRebuild();
      }
    }
  }

  private String service() {
    return state.config.service();
  }

  @Override
  public void close() {
    closed = true;
    probes.shutdownNow();
  }
}
