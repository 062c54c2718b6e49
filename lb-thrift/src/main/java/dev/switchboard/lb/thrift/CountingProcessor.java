package dev.switchboard.lb.thrift;

import dev.switchboard.lb.GracefulShutdown;
import dev.switchboard.lb.Prequal;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import org.apache.thrift.TException;
import org.apache.thrift.TProcessor;
import org.apache.thrift.protocol.TProtocol;

/**
 * Counts calls being processed, so a draining server knows when its last call finished, and keeps
 * the load a Prequal probe is answered with (requests in flight, latency at that load).
 */
final class CountingProcessor implements TProcessor, GracefulShutdown.InFlight {
  // How often awaitIdle looks again: no lock or signal on the call path, a poll on the rare drain.
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final TProcessor delegate;
  private final Prequal.LoadTracker load = new Prequal.LoadTracker();

  CountingProcessor(TProcessor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void process(TProtocol in, TProtocol out) throws TException {
    int level = load.begin();
    long start = System.nanoTime();
    try {
      delegate.process(in, out);
    } finally {
      long now = System.nanoTime();
      load.end(level, now - start, now);
    }
  }

  @Override
  public int inFlight() {
    return load.requestsInFlight();
  }

  /** What probes are answered from. */
  Prequal.LoadTracker load() {
    return load;
  }

  @Override
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (load.requestsInFlight() > 0) {
      long left = deadline - System.nanoTime();
      if (left <= 0) {
        return false;
      }
      LockSupport.parkNanos(Math.min(left, POLL_NANOS));
      if (Thread.interrupted()) {
        throw new InterruptedException("interrupted while waiting for calls in flight");
      }
    }
    return true;
  }
}
