package dev.switchboard.lb.thrift;

import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.thrift.TException;

/**
 * An {@code Echo} handler whose next {@code echo} call can be made to stall until the test releases
 * it: a server that is slow for exactly one call, driven by latches rather than sleeps. Several
 * handlers may share one {@link Gate}, so "the next call to any of these servers" stalls.
 * Thread-safe.
 */
@ThriftService(name = "echo")
final class StallingEchoHandler implements Echo.Iface {
  /** The longest a stalled call waits for {@link Gate#release()} (a safety net, not a timing). */
  private static final Duration MAX_STALL = Duration.ofSeconds(30);

  /** Makes the next {@code echo} that reaches any handler sharing it wait for a release. */
  static final class Gate {
    private final AtomicBoolean armed = new AtomicBoolean();
    private volatile CountDownLatch entered = new CountDownLatch(0);
    private volatile CountDownLatch released = new CountDownLatch(0);

    /** The next {@code echo} call stalls until {@link #release()}. */
    void armOnce() {
      entered = new CountDownLatch(1);
      released = new CountDownLatch(1);
      armed.set(true);
    }

    /** Waits until the stalled call has reached its handler; false if it did not in time. */
    boolean awaitEntered(Duration timeout) throws InterruptedException {
      return entered.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Lets the stalled call (if any) answer, and disarms the gate. */
    void release() {
      armed.set(false);
      released.countDown();
    }

    private void passIfArmed() throws TException {
      if (!armed.compareAndSet(true, false)) {
        return;
      }
      CountDownLatch r = released;
      entered.countDown();
      try {
        if (!r.await(MAX_STALL.toMillis(), TimeUnit.MILLISECONDS)) {
          throw new TException("stalled call was never released");
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TException("interrupted while stalled", e);
      }
    }
  }

  private final Gate gate;
  private final AtomicLong calls = new AtomicLong();
  private volatile String identity = "unstarted";

  StallingEchoHandler(Gate gate) {
    this.gate = gate;
  }

  void identity(String identity) {
    this.identity = identity;
  }

  /** Calls handled so far (of every method but {@code count}). */
  long calls() {
    return calls.get();
  }

  @Override
  public String echo(String message) throws TException {
    calls.incrementAndGet();
    gate.passIfArmed();
    return message;
  }

  @Override
  public void fire(String message) {
    calls.incrementAndGet();
  }

  @Override
  public String fail(String message) throws TException {
    calls.incrementAndGet();
    throw new EchoFailure(message);
  }

  @Override
  public String sleep(int millis, String message) throws TException {
    calls.incrementAndGet();
    return message;
  }

  @Override
  public long count() {
    return calls.get();
  }

  @Override
  public String whoami() {
    calls.incrementAndGet();
    return identity;
  }
}
