package dev.switchboard.lb.thrift;

import dev.switchboard.lb.thrift.test.Echo;
import java.util.concurrent.CountDownLatch;

/**
 * Runs one echo {@link ThriftServer} in its own JVM (for tests that kill a real process or cut its
 * network): prints {@code READY <port>} once it serves, then runs until killed. The optional first
 * argument is the address to listen on (default 127.0.0.1), such as a network lab host's.
 */
public final class EchoServerMain {
  private EchoServerMain() {}

  public static void main(String[] args) throws Exception {
    EchoHandler handler = new EchoHandler();
    // Loopback unless the caller names the address (a network lab host's, say).
    ThriftServer server =
        ThriftServer.builder(handler, new Echo.Processor<>(handler))
            .host(args.length > 0 ? args[0] : "127.0.0.1")
            .port(0)
            .start();
    handler.identity(server.instance().address());
    System.out.println("READY " + server.port());
    System.out.flush();
    new CountDownLatch(1).await(); // until the process is killed
  }
}
