package dev.switchboard.lb.thrift;

import dev.switchboard.lb.GracefulShutdown;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import org.apache.thrift.TException;
import org.apache.thrift.TProcessor;
import org.apache.thrift.protocol.TProtocol;

/** Counts calls being processed, so a draining server knows when its last call finished. */
final class CountingProcessor implements TProcessor, GracefulShutdown.InFlight {
  // How often awaitIdle looks again: no lock or signal on the call path, a poll on the rare drain.
  private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);

  private final TProcessor delegate;
  private final AtomicInteger inFlight = new AtomicInteger();

  CountingProcessor(TProcessor delegate) {
    this.delegate = delegate;
  }

  @Override
  public void process(TProtocol in, TProtocol out) throws TException {
    inFlight.incrementAndGet();
    try {
      delegate.process(in, out);
    } finally {
      inFlight.decrementAndGet();
    }
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public boolean awaitIdle(Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (inFlight.get() > 0) {
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
