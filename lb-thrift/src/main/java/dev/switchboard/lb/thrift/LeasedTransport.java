package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TLayeredTransport;
import org.jspecify.annotations.Nullable;

/**
 * A pooled transport bound to one picked endpoint, from {@link ThriftCluster#borrowTransport()}.
 * Use it for one call (or a few, in sequence) through {@link #protocol()} and close it: closing
 * finishes the lease and returns the connection to its pool only if it is clean.
 *
 * <p>Every read and write goes through this transport, so a failure is classified and recorded
 * against the endpoint ({@link Outcome#TIMEOUT} for a read that timed out, {@link
 * Outcome#TRANSPORT_FAILURE} for a broken connection or a garbled reply, {@link Outcome#CANCELLED}
 * for an interrupted caller). A connection is returned to the pool only when every call sent on it
 * had its reply read to the end: a caller that gave up on a reply, for whatever reason, closes the
 * connection instead of handing that reply to the next borrower. A caller that closes with a reply
 * still unread and no failure is recorded as {@link Outcome#CANCELLED} (nothing is learned about
 * the endpoint). Call {@link #complete(Outcome)} first to report an outcome of your own (such as
 * {@link Outcome#APPLICATION_ERROR}).
 *
 * <p>Build clients on {@link #protocol()}: a protocol you build yourself on this transport is still
 * failure-tracked, but an abandoned reply can only be detected through {@link #protocol()}.
 *
 * <p>Not thread-safe: one call at a time, like any Thrift transport.
 */
public final class LeasedTransport extends TLayeredTransport {
  private final TransportPool pool;
  private final PooledConnection connection;
  private final Lease lease;
  private final ExchangeProtocol protocol;
  private @Nullable Outcome failure;
  private @Nullable Outcome reported;
  private boolean closed;

  LeasedTransport(
      TransportPool pool, PooledConnection connection, Lease lease, ThriftTransportConfig config) {
    super(connection.transport);
    this.pool = pool;
    this.connection = connection;
    this.lease = lease;
    this.protocol = new ExchangeProtocol(config.protocol().wrap(this), config.framed());
  }

  /** The lease on the endpoint this transport talks to. */
  public Lease lease() {
    return lease;
  }

  /** The configured protocol over this transport, tracking each call's reply. */
  public TProtocol protocol() {
    return protocol;
  }

  /** Records the call's outcome, for the lease finished by {@link #close()}. */
  public void complete(Outcome outcome) {
    reported = outcome;
  }

  @Override
  public boolean isOpen() {
    return !closed && connection.transport.isOpen();
  }

  @Override
  public void open() throws TTransportException {
    if (closed) {
      throw new TTransportException(TTransportException.NOT_OPEN, "transport was returned");
    }
  }

  @Override
  public int read(byte[] buf, int off, int len) throws TTransportException {
    try {
      return getInnerTransport().read(buf, off, len);
    } catch (TTransportException e) {
      throw failed(e);
    }
  }

  @Override
  public void write(byte[] buf, int off, int len) throws TTransportException {
    try {
      getInnerTransport().write(buf, off, len);
    } catch (TTransportException e) {
      throw failed(e);
    }
  }

  @Override
  public void flush() throws TTransportException {
    try {
      getInnerTransport().flush();
    } catch (TTransportException e) {
      throw failed(e);
    }
  }

  private TTransportException failed(TTransportException e) {
    if (failure == null) {
      failure = ThriftOutcomes.classify(e);
    }
    return e;
  }

  /**
   * Finishes the lease and returns the connection to its pool if it is clean (otherwise closes it);
   * idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Outcome outcome;
    if (failure != null) {
      outcome = failure;
    } else if (protocol.isGarbled()) {
      outcome = Outcome.TRANSPORT_FAILURE; // the peer sent something that is not Thrift
    } else if (reported != null) {
      outcome = reported;
    } else if (!protocol.isClean()) {
      outcome = Outcome.CANCELLED; // the caller gave up on a reply
    } else {
      outcome = Outcome.SUCCESS;
    }
    boolean reusable =
        failure == null
            && protocol.isClean()
            && (outcome == Outcome.SUCCESS || outcome == Outcome.APPLICATION_ERROR);
    pool.release(connection, reusable);
    if (!lease.isCompleted()) {
      if (outcome == Outcome.CANCELLED) {
        lease.close();
      } else {
        lease.complete(outcome);
      }
    }
  }
}
