package dev.switchboard.lb.thrift;

import dev.switchboard.lb.thrift.test.Echo;
import dev.switchboard.lb.thrift.test.EchoFailure;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.thrift.TException;

/**
 * The test servers' implementation of the generated {@code Echo} service (see {@code
 * src/test/thrift/echo.thrift}): it answers with its identity and counts the calls it handles, so
 * tests can tell which server took a call and assert per-server shares. Thread-safe.
 *
 * <p>Oneway {@code fire} calls have no reply; observe them with {@link #expectFires(int)} (a latch
 * the handler counts down) rather than by waiting for time to pass.
 */
@ThriftService(name = "echo")
public final class EchoHandler implements Echo.Iface {
  private volatile String identity;
  private volatile int echoDelayMillis;
  private volatile int failDelayMillis;
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong fires = new AtomicLong();
  private final AtomicReference<CountDownLatch> fireLatch =
      new AtomicReference<>(new CountDownLatch(0));
  private volatile String lastFired = "";

  /**
   * Creates a handler that answers {@code whoami} with {@code identity}, for example {@code
   * "127.0.0.1:" + port}.
   */
  public EchoHandler(String identity) {
    this.identity = identity;
  }

  /** A handler whose identity is set once its server's port is known. */
  public EchoHandler() {
    this("unstarted");
  }

  /** Sets the identity {@code whoami} answers with. */
  public void identity(String identity) {
    this.identity = identity;
  }

  /** Makes every {@code echo} take {@code millis} longer: a slow server. */
  public void delayEcho(int millis) {
    this.echoDelayMillis = millis;
  }

  @Override
  public String echo(String message) throws TException {
    calls.incrementAndGet();
    pause(echoDelayMillis);
    return message;
  }

  @Override
  public void fire(String message) {
    calls.incrementAndGet();
    fires.incrementAndGet();
    lastFired =
        message; // written before the count-down, so a thread that awaited the latch sees it
    fireLatch.get().countDown();
  }

  /** Makes every {@code fail} take {@code millis} before it throws. */
  public void delayFail(int millis) {
    this.failDelayMillis = millis;
  }

  @Override
  public String fail(String message) throws TException {
    calls.incrementAndGet();
    pause(failDelayMillis);
    throw new EchoFailure(message);
  }

  /**
   * Sleeps for {@code millis} (nothing when it is not positive), then returns {@code message}. An
   * interrupt (the server stopping) ends the call with a {@link TException}.
   */
  @Override
  public String sleep(int millis, String message) throws TException {
    calls.incrementAndGet();
    pause(millis);
    return message;
  }

  /** A deliberately slow server: the one place these tests sleep. */
  private static void pause(int millis) throws TException {
    if (millis > 0) {
      try {
        Thread.sleep(millis);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new TException("interrupted while sleeping " + millis + " ms", e);
      }
    }
  }

  /** Returns {@link #calls()}; this call is not counted. */
  @Override
  public long count() {
    return calls.get();
  }

  @Override
  public String whoami() {
    calls.incrementAndGet();
    return identity;
  }

  /** The identity this handler answers {@code whoami} with. */
  public String identity() {
    return identity;
  }

  /** Calls handled so far, of every method but {@code count}, oneway calls included. */
  public long calls() {
    return calls.get();
  }

  /** Oneway {@code fire} calls received so far. */
  public long fires() {
    return fires.get();
  }

  /** The message of the latest {@code fire} call, or {@code ""} before the first. */
  public String lastFired() {
    return lastFired;
  }

  /**
   * Returns a latch that the next {@code count} {@code fire} calls count down. It replaces any
   * latch returned before; call it before sending the calls it should observe.
   */
  public CountDownLatch expectFires(int count) {
    if (count < 0) {
      throw new IllegalArgumentException("count must not be negative: " + count);
    }
    CountDownLatch latch = new CountDownLatch(count);
    fireLatch.set(latch);
    return latch;
  }

  @Override
  public String toString() {
    return "EchoHandler[" + identity + ", calls=" + calls.get() + "]";
  }
}
