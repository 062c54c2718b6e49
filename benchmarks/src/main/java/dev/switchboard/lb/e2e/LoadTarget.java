package dev.switchboard.lb.e2e;

import java.io.IOException;
import java.time.Duration;

/**
 * One way of sending echo calls to a cell's servers (a row's "mode"): through Switchboard, directly
 * to one server, or through HAProxy. Implementations are thread-safe; each caller thread gets its
 * own {@link Caller}.
 */
interface LoadTarget extends AutoCloseable {

  /** A new caller for one thread. */
  Caller newCaller();

  /**
   * A counter that grows with every call attempt routed to server {@code server} (as this mode's
   * balancer counts them), for the time until a dead server stops getting calls.
   *
   * @throws UnsupportedOperationException if this mode cannot tell
   */
  long attemptsTo(int server) throws IOException;

  /** Waits until a restarted server {@code server} takes calls again through this mode. */
  void awaitServing(int server, Duration timeout) throws IOException, InterruptedException;

  @Override
  void close();

  /** Sends echo calls from one thread; not thread-safe. */
  interface Caller extends AutoCloseable {
    /** One echo call; returns the reply. */
    String echo(String payload) throws Exception;

    @Override
    void close();
  }
}
