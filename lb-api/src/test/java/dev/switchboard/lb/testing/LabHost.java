package dev.switchboard.lb.testing;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One host of a {@link NetworkLab}: a network namespace with an address of its own, the processes
 * started in it, and the fault on its link. A fault applies to the host's side of its link, in both
 * directions, and replaces the fault before it; {@link #heal()} removes it. Thread-safe.
 */
public final class LabHost {
  private static final String TABLE = "inet sblab";

  private final String name;
  private final String namespace;
  private final String outside;
  private final String inside;
  private final String address;
  private final String gateway;
  private final List<Process> processes = new ArrayList<>(); // guarded by this
  private String fault = "none"; // guarded by this

  LabHost(String name, String namespace, String outside, String inside, int[] subnet) {
    this.name = name;
    this.namespace = namespace;
    this.outside = outside;
    this.inside = inside;
    String base = "10.213." + subnet[0] + ".";
    this.gateway = base + (subnet[1] + 1);
    this.address = base + (subnet[1] + 2);
  }

  /** Makes the namespace, its link and its (empty) fault table. */
  void create() {
    Commands.run("ip", "netns", "add", namespace);
    Commands.run("ip", "link", "add", outside, "type", "veth", "peer", "name", inside);
    Commands.run("ip", "link", "set", inside, "netns", namespace);
    Commands.run("ip", "addr", "add", gateway + "/30", "dev", outside);
    Commands.run("ip", "link", "set", outside, "up");
    Commands.run("ip", "-n", namespace, "addr", "add", address + "/30", "dev", inside);
    Commands.run("ip", "-n", namespace, "link", "set", inside, "up");
    Commands.run("ip", "-n", namespace, "link", "set", "lo", "up");
    nft(
        "add table "
            + TABLE
            + "\nadd chain "
            + TABLE
            + " input { type filter hook input priority 0; policy accept; }\n"
            + "add chain "
            + TABLE
            + " output { type filter hook output priority 0; policy accept; }\n");
  }

  /** The name given to {@link NetworkLab#host}. */
  public String name() {
    return name;
  }

  /** The network namespace's name (for {@code ip netns exec}). */
  public String namespace() {
    return namespace;
  }

  /** The host's address: processes in it listen here, and this JVM dials it. */
  public String address() {
    return address;
  }

  /**
   * The address of this JVM's end of the host's link: processes in the host reach services of this
   * JVM (a registry) there. Faults on the host cut this path too, except {@link
   * #partitionFromClients}.
   */
  public String gatewayAddress() {
    return gateway;
  }

  /**
   * Starts {@code command} inside the host ({@code ip netns exec}), its standard error merged into
   * its standard output, which the caller must read or the process may block. The lab kills it when
   * it closes.
   *
   * @throws IllegalStateException if it cannot start
   */
  public Process start(List<String> command) {
    List<String> full = new ArrayList<>(List.of("ip", "netns", "exec", namespace));
    full.addAll(Objects.requireNonNull(command, "command"));
    synchronized (this) {
      try {
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        processes.add(p);
        return p;
      } catch (IOException e) {
        throw new IllegalStateException("cannot start " + String.join(" ", full), e);
      }
    }
  }

  /**
   * Drops every packet to and from the host: SYNs go unanswered, established connections hang with
   * no RST, as when a machine is reclaimed or its zone is lost. Its processes keep running.
   */
  public void blackHole() {
    apply("black hole", "drop");
  }

  /**
   * Drops every packet to and from TCP port {@code servicePort} of the host: its clients can
   * neither connect nor get replies, while connections the host opens itself (its registry session,
   * say) keep working: registered but unreachable.
   */
  public void partitionFromClients(int servicePort) {
    if (servicePort < 1 || servicePort > 65535) {
      throw new IllegalArgumentException("servicePort must be 1 to 65535 but was " + servicePort);
    }
    synchronized (this) {
      nft(
          flush()
              + rule("input", "tcp dport " + servicePort + " drop")
              + rule("output", "tcp sport " + servicePort + " drop"));
      fault = "partitioned from clients of port " + servicePort;
    }
  }

  /**
   * Drops the host's TCP traffic to and from port {@code remotePort} of other hosts (the registry
   * it keeps a session with, say): it keeps serving its own clients but cannot reach that service.
   */
  public void partitionFromPort(int remotePort) {
    if (remotePort < 1 || remotePort > 65535) {
      throw new IllegalArgumentException("remotePort must be 1 to 65535 but was " + remotePort);
    }
    synchronized (this) {
      nft(
          flush()
              + rule("output", "tcp dport " + remotePort + " drop")
              + rule("input", "tcp sport " + remotePort + " drop"));
      fault = "partitioned from port " + remotePort + " of other hosts";
    }
  }

  /**
   * Drops every packet on the host's link, both ways, and none inside the host: seen from outside
   * it is a {@link #blackHole()}, while processes in the host still reach each other over its
   * loopback (a registry cut off together with the clients beside it).
   */
  public void cutLink() {
    synchronized (this) {
      nft(
          flush()
              + rule("input", "iifname \"" + inside + "\" drop")
              + rule("output", "oifname \"" + inside + "\" drop"));
      fault = "link cut";
    }
  }

  /**
   * Drops {@code percent}% of the packets in each direction, at random (nftables {@code numgen
   * random}); 0 heals.
   */
  public void loss(int percent) {
    if (percent < 0 || percent > 100) {
      throw new IllegalArgumentException("percent must be 0 to 100 but was " + percent);
    }
    if (percent == 0) {
      heal();
      return;
    }
    apply(percent + "% loss", "numgen random mod 100 < " + percent + " drop");
  }

  /** Removes the fault: the link delivers every packet again. */
  public synchronized void heal() {
    nft(flush());
    fault = "none";
  }

  /** The fault in effect, such as {@code "black hole"}, or {@code "none"}. */
  public synchronized String fault() {
    return fault;
  }

  private synchronized void apply(String description, String rule) {
    nft(flush() + rule("input", rule) + rule("output", rule));
    fault = description;
  }

  private static String flush() {
    return "flush chain " + TABLE + " input\nflush chain " + TABLE + " output\n";
  }

  private static String rule(String chain, String rule) {
    return "add rule " + TABLE + " " + chain + " " + rule + "\n";
  }

  /** Runs an nft script inside the namespace, atomically (one transaction). */
  private void nft(String script) {
    Commands.run(script, List.of("ip", "netns", "exec", namespace, "nft", "-f", "-"));
  }

  /** Kills the host's processes and deletes its namespace and link. */
  void destroy() {
    List<Process> started;
    synchronized (this) {
      started = new ArrayList<>(processes);
      processes.clear();
    }
    for (Process p : started) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    deleteNamespace(namespace);
    try {
      Commands.run("ip", "link", "del", outside);
    } catch (IllegalStateException gone) {
      // deleted with its peer in the namespace, as expected
    }
  }

  /** Kills whatever still runs in {@code namespace} and deletes it. */
  static void deleteNamespace(String namespace) {
    String pids;
    try {
      pids = Commands.run("ip", "netns", "pids", namespace);
    } catch (IllegalStateException gone) {
      return; // never created, or already deleted
    }
    for (String pid : pids.split("\\s+")) {
      if (!pid.isBlank()) {
        ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
      }
    }
    Commands.run("ip", "netns", "del", namespace);
  }

  @Override
  public String toString() {
    return "LabHost{" + name + " " + address + " in " + namespace + ", fault " + fault() + "}";
  }
}
