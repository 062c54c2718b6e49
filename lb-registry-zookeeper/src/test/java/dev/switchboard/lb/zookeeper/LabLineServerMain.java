package dev.switchboard.lb.zookeeper;

import dev.switchboard.lb.ServiceInstance;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A line server (one {@code ok} line per connection, as {@code LineServer}) for a network lab host,
 * in its own JVM: listens on the address given first, registers itself as service {@value
 * LabZooKeeperMain#SERVICE} in the ZooKeeper given second (short test session), prints {@code READY
 * <port>} and serves until killed; its registry re-registers it after a session expiry.
 */
public final class LabLineServerMain {
  private LabLineServerMain() {}

  public static void main(String[] args) throws Exception {
    try (ServerSocket socket = new ServerSocket();
        ZooKeeperRegistry registry = TestZooKeeper.registry(args[1]).build()) {
      socket.bind(new InetSocketAddress(InetAddress.getByName(args[0]), 0));
      registry.register(
          ServiceInstance.builder(LabZooKeeperMain.SERVICE, args[0], socket.getLocalPort())
              .build());
      System.out.println("READY " + socket.getLocalPort());
      System.out.flush();
      while (true) {
        try (Socket connection = socket.accept()) {
          OutputStream out = connection.getOutputStream();
          out.write("ok\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        } catch (java.io.IOException e) {
          // the client went away
        }
      }
    }
  }
}
