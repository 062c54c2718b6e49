package dev.switchboard.lb.zookeeper;

import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/**
 * A ZooKeeper server for a network lab host, in its own JVM, with a registrar beside it: starts a
 * standalone server on every address of the host (tick {@value TestZooKeeper#TICK_MS} ms), prints
 * {@code READY <port>}, then reads commands from stdin, each answered {@code OK <command>}: {@code
 * add <host>:<port>} registers an instance of service {@value #SERVICE} over the host's loopback,
 * {@code remove <host>:<port>} deregisters it. The registrar keeps its session while the host's
 * link is cut ({@code LabHost.cutLink()}), so membership can change behind a partition.
 */
public final class LabZooKeeperMain {
  static final String SERVICE = "line";

  private LabZooKeeperMain() {}

  public static void main(String[] args) throws Exception {
    InstanceSpec spec =
        new InstanceSpec(null, -1, -1, -1, true, -1, TestZooKeeper.TICK_MS, -1, Map.of(), null);
    try (TestingServer server = new TestingServer(spec, true);
        ZooKeeperRegistry registrar =
            TestZooKeeper.registry("127.0.0.1:" + server.getPort()).build()) {
      System.out.println("READY " + server.getPort());
      System.out.flush();
      Map<String, Registration> registered = new HashMap<>();
      BufferedReader in =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = in.readLine()) != null) {
        String[] command = line.strip().split(" ");
        String address = command[1];
        if (command[0].equals("add")) {
          int colon = address.lastIndexOf(':');
          registered.put(
              address,
              registrar.register(
                  ServiceInstance.builder(
                          SERVICE,
                          address.substring(0, colon),
                          Integer.parseInt(address.substring(colon + 1)))
                      .build()));
        } else {
          registered.remove(address).close();
        }
        System.out.println("OK " + line.strip());
        System.out.flush();
      }
    }
  }
}
