package dev.switchboard.lb.thrift;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/*
 * Why a connect gets less than the connect timeout
 * ================================================
 * A host that vanished (reclaimed, its zone lost) answers no SYN: a connect to it waits out the
 * whole connect timeout (1 s by default; Linux itself retransmits the SYN after 1 s). A hedge
 * rescues such a call only while the hedge budget lasts; once its burst is spent, every call the
 * balancer still sends there (a third of them under round robin) stalled for that second, all 8
 * callers at once in NetworkFaultTest.
 *
 * Yet a connect sends nothing to the server's application, so giving it up early and trying
 * another endpoint is always safe and costs the server nothing (the engine retries connect
 * failures outside the retry budget, as gRPC's transparent retries). RFC 8305 (Happy Eyeballs
 * v2, section 5) bounds how long a connect may stay pending before the next address is tried by
 * the SYN-ACK time seen before ("historical RTT data"), never below 100 ms (its recommended
 * minimum) and never counting the TLS handshake, which takes more round trips and CPU: so here.
 *
 * The bound is MULTIPLE times a decaying peak of this endpoint's recent TCP connect times (rises
 * at once, decays by 1/8 of the gap per connect, as peak EWMA), at least FLOOR, at most the
 * configured connect timeout. It applies only where a failure can still be retried on another
 * endpoint (ThriftCluster.connectMillis); the last attempt, or the only endpoint, gets the whole
 * timeout, so a slow network cannot turn into failed calls. Until a connect has succeeded there
 * is no history and the whole timeout applies too. A connect cut short fails as a connect failure
 * and is recorded against the endpoint: consecutive ones eject it like a dead one.
 */

/**
 * An endpoint's recent TCP connect times (SYN to SYN-ACK, without any TLS handshake), and from them
 * the bound on a connect whose failure may be retried elsewhere. Thread-safe and lock-free.
 */
final class ConnectTimes {
  /** RFC 8305's recommended minimum connection attempt delay. */
  static final long FLOOR_NANOS = TimeUnit.MILLISECONDS.toNanos(100);

  /** How many times the usual connect time a connect may take before it is given up. */
  static final int MULTIPLE = 4;

  private static final long NONE = 0;
  private final AtomicLong peak = new AtomicLong(NONE);

  /** A TCP connect succeeded after {@code nanos}. */
  void record(long nanos) {
    long sample = Math.max(1, nanos);
    long p;
    long next;
    do {
      p = peak.get();
      next = p == NONE || sample >= p ? sample : p - ((p - sample) >> 3);
    } while (!peak.compareAndSet(p, next));
  }

  /** The decaying peak of recent connect times in nanoseconds, 0 if none succeeded yet. */
  long peakNanos() {
    return peak.get();
  }

  /**
   * How long a connect whose failure can be retried on another endpoint may take, at most {@code
   * maxNanos}: {@link #MULTIPLE} times the usual connect time, at least {@link #FLOOR_NANOS};
   * {@code maxNanos} while no connect has succeeded.
   */
  long boundNanos(long maxNanos) {
    long p = peak.get();
    if (p == NONE) {
      return maxNanos;
    }
    long bound = p > Long.MAX_VALUE / MULTIPLE ? Long.MAX_VALUE : p * MULTIPLE;
    return Math.min(maxNanos, Math.max(FLOOR_NANOS, bound));
  }
}
