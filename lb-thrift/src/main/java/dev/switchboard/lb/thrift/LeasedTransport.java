package dev.switchboard.lb.thrift;

import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TLayeredTransport;

/**
 * A pooled transport bound to one picked endpoint, from {@link ThriftCluster#borrowTransport()}.
 * Use it for one call (or a few, in sequence) and close it: closing returns the connection to its
 * pool and finishes the lease, as {@link Outcome#SUCCESS} unless a read or write failed (then the
 * connection is discarded and the failure recorded against the endpoint). Call {@link
 * #complete(Outcome)} first to report a different outcome.
 *
 * <p>Not thread-safe: one call at a time, like any Thrift transport.
 */
public final class LeasedTransport extends TLayeredTransport {
  private final TransportPool pool;
  private final PooledConnection connection;
  private final Lease lease;
  private Outcome failure;
  private boolean closed;

  LeasedTransport(TransportPool pool, PooledConnection connection, Lease lease) {
    super(connection.transport);
    this.pool = pool;
    this.connection = connection;
    this.lease = lease;
  }

  /** The lease on the endpoint this transport talks to. */
  public Lease lease() {
    return lease;
  }

  /** The configured protocol over this transport. */
  public TProtocol protocol() {
    return connection.protocol;
  }

  /** Records the call's outcome, for the lease finished by {@link #close()}. */
  public void complete(Outcome outcome) {
    if (outcome != Outcome.SUCCESS) {
      failure = outcome;
    }
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
      failure = ThriftOutcomes.classify(e);
      throw e;
    }
  }

  @Override
  public void write(byte[] buf, int off, int len) throws TTransportException {
    try {
      getInnerTransport().write(buf, off, len);
    } catch (TTransportException e) {
      failure = ThriftOutcomes.classify(e);
      throw e;
    }
  }

  @Override
  public void flush() throws TTransportException {
    try {
      getInnerTransport().flush();
    } catch (TTransportException e) {
      failure = ThriftOutcomes.classify(e);
      throw e;
    }
  }

  /** Returns the connection to its pool and finishes the lease; idempotent. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    Outcome outcome = failure == null ? Outcome.SUCCESS : failure;
    pool.release(connection, outcome == Outcome.SUCCESS || outcome == Outcome.APPLICATION_ERROR);
    if (!lease.isCompleted()) {
      lease.complete(outcome);
    }
  }
}
