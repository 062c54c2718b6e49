package dev.switchboard.lb.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Assumptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Layout
 * ======
 * Each host is a network namespace "sblab-<pid>-<n>-<name>" joined to the root namespace by a veth
 * pair "sb<pid:6 hex><n:3 hex>o" (root side, 10.213.x.y+1/30) and "...i" (inside, 10.213.x.y+2/30).
 * The /30 is chosen at random and skipped if any interface already has an address in it, so
 * parallel runs on one machine do not collide. Names carry the pid of the JVM that made them: a
 * later lab removes namespaces and links whose JVM is gone (a run killed before its cleanup).
 *
 * Faults are nftables rules in a table "inet sblab" inside the host's namespace, with one input
 * and one output chain: dropping in both directions is a true black hole (no RST, SYNs unanswered,
 * established connections hang), as when a machine or its zone vanishes. The root namespace, the
 * test's JVM and its loopback are never touched.
 */

/**
 * A network fault lab: hosts in their own Linux network namespaces, each reachable from this JVM at
 * its own address, whose links can be black-holed, partitioned or made lossy and healed while the
 * processes on them keep running — the failures of real networks that {@code kill -9} on loopback
 * cannot show (the kernel answers a dead loopback port at once with a RST).
 *
 * <pre>{@code
 * try (NetworkLab lab = NetworkLab.open()) {   // skips the test where namespaces cannot be made
 *   LabHost host = lab.host("echo-1");
 *   Process server = host.start(List.of(java, "-cp", cp, "my.ServerMain", host.address()));
 *   ...                                         // clients in this JVM dial host.address()
 *   host.blackHole();                           // every packet to and from it dropped
 *   host.heal();
 * }                                             // processes killed, namespaces deleted
 * }</pre>
 *
 * <p>Needs Linux, root, iproute2's {@code ip} and nftables' {@code nft}. Where they are missing,
 * {@link #open()} aborts the calling test as skipped, saying why; with the environment variable
 * {@value #REQUIRED_ENV} set to {@code true} (as CI does) it fails instead, so the lab's tests can
 * never be skipped silently there.
 *
 * <p>Processes inside a host cannot reach this JVM's 127.0.0.1: a service they must reach (a
 * registry) listens on a host's {@link LabHost#gatewayAddress()} or on the wildcard address.
 *
 * <p>Thread-safe. {@link #close()} (also run by a shutdown hook, should the test JVM exit first)
 * kills the hosts' processes and deletes their namespaces and links.
 */
public final class NetworkLab implements AutoCloseable {
  /** Set to {@code true} to fail instead of skip where the lab cannot run (CI sets it). */
  public static final String REQUIRED_ENV = "SWITCHBOARD_NETWORK_LAB_REQUIRED";

  static final String NAMESPACE_PREFIX = "sblab-";
  private static final Logger logger = LoggerFactory.getLogger(NetworkLab.class);
  private static final Pattern NAMESPACE = Pattern.compile("sblab-(\\d+)-\\d+-[a-z0-9-]+");
  private static final Pattern LINK = Pattern.compile("\\d+: (sb([0-9a-f]{6})[0-9a-f]{3}[oi])[@:]");
  private static final Pattern HOST_NAME = Pattern.compile("[a-z0-9-]{1,20}");
  private static final AtomicInteger hostNumbers = new AtomicInteger();

  private final List<LabHost> hosts = new ArrayList<>();
  private final Thread shutdownHook = new Thread(this::closeQuietly, "network-lab-cleanup");
  private boolean closed; // guarded by this

  private NetworkLab() {
    Runtime.getRuntime().addShutdownHook(shutdownHook);
  }

  /**
   * Opens a lab after removing what crashed runs left behind.
   *
   * @throws org.opentest4j.TestAbortedException if this machine cannot run it (not Linux, not root,
   *     no {@code ip} or {@code nft}) and {@value #REQUIRED_ENV} is not {@code true}
   * @throws IllegalStateException if it cannot run and {@value #REQUIRED_ENV} is {@code true}
   */
  public static NetworkLab open() {
    String missing = missingPrerequisite();
    if (missing != null) {
      String message =
          "network fault lab unavailable: "
              + missing
              + " (it needs Linux, root, iproute2's ip and nftables' nft; "
              + "Debian: apt-get install iproute2 nftables)";
      if (Boolean.parseBoolean(System.getenv(REQUIRED_ENV))) {
        throw new IllegalStateException(message + "; " + REQUIRED_ENV + " is true, so failing");
      }
      Assumptions.abort(message);
    }
    removeStale();
    return new NetworkLab();
  }

  /**
   * Why the lab cannot run here (not Linux, not root, no {@code ip} or {@code nft}), or null if it
   * can: for callers outside a test (a benchmark harness) that skip instead of aborting a test.
   */
  public static @Nullable String missingPrerequisite() {
    if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
      return "not Linux but " + System.getProperty("os.name");
    }
    try {
      Object uid = Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      if (!Integer.valueOf(0).equals(uid)) {
        return "not running as root (uid " + uid + ")";
      }
    } catch (IOException | UnsupportedOperationException e) {
      return "cannot tell the user id: " + e;
    }
    for (String tool : List.of("ip", "nft")) {
      if (Commands.find(tool) == null) {
        return "'" + tool + "' not found on the PATH or in /usr/sbin, /sbin";
      }
    }
    return null;
  }

  /**
   * Creates a host: a namespace with a veth link to this one, addresses on both ends, and an empty
   * nftables table for faults.
   *
   * @param name a label for the namespace, 1 to 20 of {@code a-z 0-9 -}
   * @throws IllegalArgumentException if {@code name} is not such a label
   * @throws IllegalStateException if the lab is closed or a command fails (its stderr included)
   */
  public LabHost host(String name) {
    Objects.requireNonNull(name, "name");
    if (!HOST_NAME.matcher(name).matches()) {
      throw new IllegalArgumentException(
          "host name must be 1 to 20 of a-z, 0-9 and '-' but was '" + name + "'");
    }
    int n = hostNumbers.incrementAndGet() & 0xfff;
    long pid = ProcessHandle.current().pid();
    String namespace = NAMESPACE_PREFIX + pid + "-" + n + "-" + name;
    String link = String.format("sb%06x%03x", pid & 0xffffff, n); // pids stay below 2^22
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("the network lab is closed");
      }
      LabHost host = new LabHost(name, namespace, link + "o", link + "i", freeSubnet());
      hosts.add(host); // before set-up, so close() removes what a failed set-up left
      host.create();
      return host;
    }
  }

  /** A random 10.213.x.y/30 no interface has an address in; returns its first octets' base. */
  private static int[] freeSubnet() {
    String addresses = Commands.run("ip", "-4", "-o", "addr", "show");
    for (int tries = 0; tries < 100; tries++) {
      int third = ThreadLocalRandom.current().nextInt(256);
      int fourth = ThreadLocalRandom.current().nextInt(64) * 4;
      boolean used = false;
      for (int i = 0; i < 4 && !used; i++) {
        used = addresses.contains(" 10.213." + third + "." + (fourth + i) + "/");
      }
      if (!used) {
        return new int[] {third, fourth};
      }
    }
    throw new IllegalStateException("no free /30 in 10.213.0.0/16 after 100 tries");
  }

  /** Removes namespaces and links of labs whose JVM no longer runs. */
  static void removeStale() {
    for (String line : Commands.run("ip", "netns", "list").split("\n")) {
      String ns = line.split(" ")[0].strip();
      Matcher m = NAMESPACE.matcher(ns);
      if (m.matches() && !alive(Long.parseLong(m.group(1)))) {
        logger.info("Removing network namespace {} left by a run that ended", ns);
        LabHost.deleteNamespace(ns);
      }
    }
    for (String line : Commands.run("ip", "-o", "link", "show").split("\n")) {
      Matcher m = LINK.matcher(line);
      if (m.find() && !alive(Long.parseLong(m.group(2), 16))) {
        logger.info("Removing link {} left by a run that ended", m.group(1));
        try {
          Commands.run("ip", "link", "del", m.group(1));
        } catch (IllegalStateException gone) {
          // deleted with its peer meanwhile
        }
      }
    }
  }

  private static boolean alive(long pid) {
    return ProcessHandle.of(pid).isPresent();
  }

  /** Kills every host's processes and deletes their namespaces and links; idempotent. */
  @Override
  public void close() {
    List<LabHost> toClose;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      toClose = new ArrayList<>(hosts);
    }
    IllegalStateException failure = null;
    for (LabHost h : toClose) {
      try {
        h.destroy();
      } catch (IllegalStateException e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    try {
      Runtime.getRuntime().removeShutdownHook(shutdownHook);
    } catch (IllegalStateException shuttingDown) {
      // called from the hook itself
    }
    if (failure != null) {
      throw failure;
    }
  }

  private void closeQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      logger.warn("Network lab cleanup failed", e);
    }
  }
}
