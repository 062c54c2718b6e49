package dev.switchboard.lb.e2e;

import dev.switchboard.lb.testing.LabHost;
import dev.switchboard.lb.thrift.test.Echo;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.thrift.TException;
import org.apache.thrift.protocol.TBinaryProtocol;
import org.apache.thrift.transport.TSocket;
import org.apache.thrift.transport.TTransport;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.jspecify.annotations.Nullable;

/**
 * The echo servers of one cell of the table: N fresh processes on fixed ports of 127.0.0.1 (in the
 * network fault scenarios, server {@value Scenario#VICTIM} on a network lab host instead),
 * registered under their own ZooKeeper path so cells never see each other's servers. A restarted
 * server comes back on the same port. Not thread-safe: driven by the harness's main thread.
 */
final class Fleet implements AutoCloseable {
  private static final Duration START_TIMEOUT = Duration.ofSeconds(60);

  private final String zookeeper;
  private final String basePath;
  private final int[] ports;
  private final String[] hosts;
  private final ServerJvm[] servers;

  private Fleet(String zookeeper, String basePath, int[] ports) {
    this.zookeeper = zookeeper;
    this.basePath = basePath;
    this.ports = ports;
    this.hosts = new String[ports.length];
    Arrays.fill(hosts, "127.0.0.1");
    this.servers = new ServerJvm[ports.length];
  }

  /** Starts {@code count} servers at once and waits until every one serves and is registered. */
  static Fleet start(int count, String zookeeper, String basePath)
      throws IOException, InterruptedException {
    return start(count, zookeeper, basePath, null, "");
  }

  /**
   * As {@link #start(int, String, String)}, with server {@value Scenario#VICTIM} on {@code lab} (if
   * not null), which reaches ZooKeeper at {@code labZookeeper}.
   */
  static Fleet start(
      int count, String zookeeper, String basePath, @Nullable LabHost lab, String labZookeeper)
      throws IOException, InterruptedException {
    Fleet fleet = new Fleet(zookeeper, basePath, freePorts(count));
    try {
      for (int i = 0; i < count; i++) {
        if (lab != null && i == Scenario.VICTIM) {
          fleet.hosts[i] = lab.address();
          fleet.servers[i] = ServerJvm.startIn(lab, fleet.ports[i], labZookeeper, basePath);
        } else {
          fleet.servers[i] = ServerJvm.start(fleet.ports[i], zookeeper, basePath);
        }
      }
      for (ServerJvm s : fleet.servers) {
        s.awaitLine("READY", START_TIMEOUT);
      }
      return fleet;
    } catch (IOException | InterruptedException | RuntimeException e) {
      fleet.close();
      throw e;
    }
  }

  /** Ports nobody listens on now (the kernel's choice, then released). */
  static int[] freePorts(int count) throws IOException {
    int[] ports = new int[count];
    List<ServerSocket> held = new ArrayList<>();
    try {
      for (int i = 0; i < count; i++) {
        ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"));
        held.add(s);
        ports[i] = s.getLocalPort();
      }
    } finally {
      for (ServerSocket s : held) {
        s.close();
      }
    }
    return ports;
  }

  int size() {
    return servers.length;
  }

  /** Every server's port, in server order. */
  List<Integer> ports() {
    List<Integer> ports = new ArrayList<>();
    for (int i = 0; i < size(); i++) {
      ports.add(port(i));
    }
    return ports;
  }

  int port(int i) {
    return ports[i];
  }

  String address(int i) {
    return hosts[i] + ":" + ports[i];
  }

  List<String> addresses() {
    List<String> all = new ArrayList<>();
    for (int i = 0; i < ports.length; i++) {
      all.add(address(i));
    }
    return all;
  }

  /** SIGKILL, at once. */
  void kill(int i) {
    servers[i].kill();
  }

  /** Makes every echo of server {@code i} sleep {@code millis} first. */
  void slow(int i, int millis) throws IOException, InterruptedException {
    servers[i].command("slow " + millis);
  }

  /** Puts server {@code i} at 100% CPU. */
  void burn(int i) throws IOException, InterruptedException {
    servers[i].command("burn");
  }

  /**
   * Restarts server {@code i} through the drain path: it drains and exits, then a fresh process
   * starts on the same port; returns once that one serves and is registered.
   */
  void restart(int i) throws IOException, InterruptedException {
    servers[i].drain(Duration.ofSeconds(20));
    servers[i] = ServerJvm.start(ports[i], zookeeper, basePath);
    servers[i].awaitLine("READY", START_TIMEOUT);
  }

  /** CPU time the servers running now have used so far (a killed or replaced one drops out). */
  long cpuNanos() {
    long sum = 0;
    for (ServerJvm s : servers) {
      sum += s.cpuNanos();
    }
    return sum;
  }

  /**
   * Asks every server how many calls it served (Echo's {@code count}, over a connection of its own)
   * into {@code into}; a server that does not answer counts 0.
   */
  void served(long[] into) {
    for (int i = 0; i < servers.length; i++) {
      TTransport t = null;
      try {
        t = new TFramedTransport(new TSocket(hosts[i], ports[i], 2_000));
        t.open();
        into[i] = new Echo.Client(new TBinaryProtocol(t)).count();
      } catch (TException e) {
        into[i] = 0;
      } finally {
        if (t != null) {
          t.close();
        }
      }
    }
  }

  /** Stops every server and waits for each to exit. Idempotent. */
  @Override
  public void close() throws InterruptedException {
    for (ServerJvm s : servers) {
      if (s != null) {
        s.closeInput();
      }
    }
    for (ServerJvm s : servers) {
      if (s != null) {
        s.awaitExit();
      }
    }
  }
}
