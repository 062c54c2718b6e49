package dev.switchboard.lb.thrift;

import org.apache.thrift.TException;
import org.apache.thrift.protocol.TField;
import org.apache.thrift.protocol.TList;
import org.apache.thrift.protocol.TMap;
import org.apache.thrift.protocol.TMessage;
import org.apache.thrift.protocol.TMessageType;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolDecorator;
import org.apache.thrift.protocol.TProtocolException;
import org.apache.thrift.protocol.TSet;
import org.apache.thrift.protocol.TStruct;
import org.apache.thrift.transport.TTransportException;

/*
 * Unfinished exchanges
 * --------------------
 * A pooled connection may be reused only if every call sent on it had its reply read to the end:
 * a caller that gave up (its read timed out, it was interrupted, a hedge won, it threw between
 * send and receive) leaves the reply on the wire, and the next borrower would read it as its own.
 * This decorator counts calls written (CALL messages; ONEWAY ones get no reply) against replies
 * read to readMessageEnd, and notes protocol errors (garbage on the wire: the bytes no longer line
 * up with messages). A connection is clean when every reply was read and nothing was garbled.
 *
 * Framing mismatches
 * ------------------
 * A framed client and an unframed server (or the reverse) do not understand each other, and
 * libthrift's own errors do not say so: a framed client reads an unframed reply's version word as
 * a negative frame size, and a server that cannot parse a request closes the connection, which the
 * client sees as an end of stream before any reply, and a stock TThreadPoolServer reads a frame's
 * size as the length of a method name and waits for bytes that never come (the client's read times
 * out). So a frame size that is negative or too large, an end of stream or a timeout before the
 * first reply on a connection, and a reply header that is not Thrift are rethrown (same type and
 * cause) with a message that names the likely cause: framed vs unframed.
 */

/** A protocol that knows whether its connection is between exchanges. Not thread-safe. */
final class ExchangeProtocol extends TProtocolDecorator {
  private final boolean framed;
  private int awaiting;
  private boolean garbled;
  private boolean answered;

  /** Tracks exchanges over {@code protocol}, whose transport is framed if {@code framed}. */
  ExchangeProtocol(TProtocol protocol, boolean framed) {
    super(protocol);
    this.framed = framed;
  }

  /** Every reply read to the end and no protocol error: the connection may be reused. */
  boolean isClean() {
    return awaiting == 0 && !garbled;
  }

  /** A protocol error was read: the peer sent something that is not a Thrift message. */
  boolean isGarbled() {
    return garbled;
  }

  @Override
  public void writeMessageBegin(TMessage message) throws TException {
    super.writeMessageBegin(message);
    if (message.type == TMessageType.CALL) {
      awaiting++;
    }
  }

  @Override
  public TMessage readMessageBegin() throws TException {
    try {
      return super.readMessageBegin();
    } catch (TProtocolException e) {
      garbled = true;
      throw new TProtocolException(e.getType(), framingHint(e.getMessage()), e);
    } catch (TTransportException e) {
      if (isFramingMismatch(e)) {
        throw new TTransportException(e.getType(), framingHint(e.getMessage()), e);
      }
      throw e;
    }
  }

  private boolean isFramingMismatch(TTransportException e) {
    String m = String.valueOf(e.getMessage());
    // A stock unframed server waits for the rest of a framed request: the framed client times out.
    boolean nothingYet =
        e.getType() == TTransportException.END_OF_FILE
            || (framed && ThriftOutcomes.classify(e) == dev.switchboard.lb.Outcome.TIMEOUT);
    return (nothingYet && !answered) || (framed && m.contains("frame size"));
  }

  private String framingHint(String cause) {
    return "framed vs unframed? "
        + cause
        + ": this client is "
        + (framed ? "framed" : "unframed")
        + (answered ? "" : " and the server never answered on this connection")
        + "; the server may be "
        + (framed
            ? "unframed (a TThreadPoolServer with TSocket): use ThriftTransportConfig framed(false)"
            : "framed (a non-blocking server): use ThriftTransportConfig framed(true)");
  }

  @Override
  public void readMessageEnd() throws TException {
    super.readMessageEnd();
    answered = true;
    if (awaiting > 0) {
      awaiting--;
    }
  }

  @Override
  public TStruct readStructBegin() throws TException {
    try {
      return super.readStructBegin();
    } catch (TProtocolException e) {
      throw garbled(e);
    }
  }

  @Override
  public TField readFieldBegin() throws TException {
    try {
      return super.readFieldBegin();
    } catch (TProtocolException e) {
      throw garbled(e);
    }
  }

  @Override
  public TMap readMapBegin() throws TException {
    try {
      return super.readMapBegin();
    } catch (TProtocolException e) {
      throw garbled(e);
    }
  }

  @Override
  public TList readListBegin() throws TException {
    try {
      return super.readListBegin();
    } catch (TProtocolException e) {
      throw garbled(e);
    }
  }

  @Override
  public TSet readSetBegin() throws TException {
    try {
      return super.readSetBegin();
    } catch (TProtocolException e) {
      throw garbled(e);
    }
  }

  @Override
  public String readString() throws TException {
    try {
      return super.readString();
    } catch (TProtocolException e) {
      throw garbled(e);
    }
  }

  @Override
  public java.nio.ByteBuffer readBinary() throws TException {
    try {
      return super.readBinary();
    } catch (TProtocolException e) {
      throw garbled(e);
    }
  }

  private TProtocolException garbled(TProtocolException e) {
    garbled = true;
    return e;
  }
}
