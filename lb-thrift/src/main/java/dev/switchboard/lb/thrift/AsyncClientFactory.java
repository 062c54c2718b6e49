package dev.switchboard.lb.thrift;

import org.apache.thrift.async.TAsyncClientManager;
import org.apache.thrift.protocol.TProtocolFactory;
import org.apache.thrift.transport.TNonblockingTransport;

/**
 * Makes a generated asynchronous client over one connection: the generated {@code AsyncClient}'s
 * constructor, {@code Echo.AsyncClient::new}.
 *
 * @param <A> the client type, which implements the generated {@code AsyncIface}
 */
@FunctionalInterface
public interface AsyncClientFactory<A> {
  /** A client making its calls on {@code transport} through {@code manager}'s selector. */
  A create(
      TProtocolFactory protocols, TAsyncClientManager manager, TNonblockingTransport transport);
}
