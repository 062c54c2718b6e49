package dev.switchboard.lb.thrift;

import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.protocol.TCompactProtocol;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.protocol.TProtocolFactory;
import org.apache.thrift.transport.TTransport;

/** The Thrift wire protocols a client and server agree on. */
public enum ThriftProtocol {
  /** {@code TBinaryProtocol}, strict read and write. */
  BINARY {
    @Override
    public TProtocolFactory factory() {
      return new TBinaryProtocol.Factory(true, true);
    }
  },
  /** {@code TCompactProtocol}. */
  COMPACT {
    @Override
    public TProtocolFactory factory() {
      return new TCompactProtocol.Factory();
    }
  };

  /** A factory for this protocol. */
  public abstract TProtocolFactory factory();

  /** This protocol over {@code transport}. */
  public TProtocol wrap(TTransport transport) {
    return factory().getProtocol(transport);
  }
}
