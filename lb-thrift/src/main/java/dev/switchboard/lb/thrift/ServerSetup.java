package dev.switchboard.lb.thrift;

import dev.switchboard.lb.LoadProbes;
import dev.switchboard.lb.ServiceInstance;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import org.apache.thrift.transport.TTransportException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** What {@link ThriftServer} checks and opens before it serves. Stateless. */
final class ServerSetup {
  private static final Logger logger = LoggerFactory.getLogger(ThriftServer.class);

  private ServerSetup() {}

  /** The @ThriftService of {@code handler}'s class, validated. */
  static ThriftService serviceOf(Object handler) {
    Class<?> type = handler.getClass();
    ThriftService service = type.getAnnotation(ThriftService.class);
    if (service == null) {
      throw new IllegalArgumentException(
          "handler class " + type.getName() + " has no @ThriftService annotation");
    }
    if (service.name().isBlank()) {
      throw new IllegalArgumentException(
          "@ThriftService on " + type.getName() + " must name the service (name is blank)");
    }
    if (service.weight() < 0 || service.weight() > ServiceInstance.MAX_WEIGHT) {
      throw new IllegalArgumentException(
          "@ThriftService on "
              + type.getName()
              + " has weight "
              + service.weight()
              + "; it must be between 0 and "
              + ServiceInstance.MAX_WEIGHT);
    }
    return service;
  }

  static ServerSocket listen(
      @Nullable SSLContext context, InetSocketAddress bind, boolean requireClientAuth)
      throws TTransportException {
    try {
      ServerSocket socket;
      if (context == null) {
        socket = new ServerSocket();
      } else {
        SSLServerSocket tls =
            (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        tls.setNeedClientAuth(requireClientAuth);
        socket = tls;
      }
      socket.setReuseAddress(true);
      socket.bind(bind);
      return socket;
    } catch (IOException e) {
      throw new TTransportException("cannot listen on " + bind + ": " + e.getMessage(), e);
    }
  }

  /** Answers Prequal's load probes, or null (logged) if no UDP port can be had. */
  static LoadProbes.@Nullable Responder probeResponder(
      InetSocketAddress bind, CountingProcessor processor) {
    try {
      return LoadProbes.respond(bind.getAddress(), processor.load());
    } catch (IOException e) {
      logger.warn(
          "No UDP port for load probes ({}): Prequal clients will not probe this server",
          e.toString());
      return null;
    }
  }
}
