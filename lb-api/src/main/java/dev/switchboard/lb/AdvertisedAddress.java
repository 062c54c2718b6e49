package dev.switchboard.lb;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The host a server registers when it listens on every interface and was not told which address
 * clients should dial: the first address of this host that other hosts can reach, as Curator
 * x-discovery's {@code ServiceInstanceBuilder.getAllLocalIPs()} and its default {@code
 * LocalIpFilter} choose it. Used by {@code ThriftServer} and {@code HttpServiceRegistration}.
 *
 * <p>The rule: interfaces that are up and not loopback, in index order (the order the OS numbered
 * them: {@code eth0} usually before {@code docker0}); on them, addresses that are not loopback,
 * wildcard or multicast, and not link-local unless the interface is point-to-point. <b>IPv4 is
 * preferred</b>: the first IPv4 address wins; the first IPv6 address only when there is no IPv4
 * one. With no such address the loopback address is used (and {@link #warnIfLoopback} warns). On a
 * host with several reachable networks (VPN, container bridges) set the address explicitly ({@code
 * advertiseHost}).
 *
 * <p>Thread-safe; stateless.
 */
public final class AdvertisedAddress {
  private static final Logger logger = LoggerFactory.getLogger(AdvertisedAddress.class);
  private static final Pattern IPV4_LITERAL = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

  private AdvertisedAddress() {}

  /**
   * One network interface of this host, as the selection sees it.
   *
   * @param name the interface's name, for logs ({@code eth0})
   * @param index the OS's interface index; lower indexes are preferred
   * @param up whether the interface is up
   * @param loopback whether it is a loopback interface
   * @param pointToPoint whether it is point-to-point (a tunnel): its link-local addresses count
   * @param addresses its addresses, in the order the OS lists them
   */
  public record LocalInterface(
      String name,
      int index,
      boolean up,
      boolean loopback,
      boolean pointToPoint,
      List<InetAddress> addresses) {
    public LocalInterface {
      Objects.requireNonNull(name, "name");
      addresses = List.copyOf(addresses);
    }
  }

  /** Lists this host's network interfaces. Implementations must be thread-safe. */
  @FunctionalInterface
  public interface Source {
    /**
     * The interfaces now.
     *
     * @throws SocketException if the OS could not list them
     */
    List<LocalInterface> interfaces() throws SocketException;

    /** This host's interfaces, from {@link NetworkInterface#getNetworkInterfaces()}. */
    static Source system() {
      return AdvertisedAddress::systemInterfaces;
    }
  }

  /**
   * The host to register for a server listening on {@code bindHost}: {@code bindHost} itself,
   * unless it is {@code null} or the wildcard address ({@code 0.0.0.0}, {@code ::}); then the first
   * address from {@code source} that other hosts can reach (see the class comment), or the loopback
   * address if there is none.
   */
  public static String forBindHost(@Nullable String bindHost, Source source) {
    if (bindHost != null && !isWildcard(bindHost)) {
      return bindHost;
    }
    List<LocalInterface> interfaces;
    try {
      interfaces = source.interfaces();
    } catch (SocketException | RuntimeException e) {
      logger.warn(
          "Cannot list this host's network interfaces; advertising the loopback address", e);
      return InetAddress.getLoopbackAddress().getHostAddress();
    }
    Optional<InetAddress> chosen = firstReachable(interfaces);
    if (chosen.isEmpty()) {
      logger.warn(
          "No network interface of this host has an address other hosts can reach (up,"
              + " not loopback, not link-local) among {}; advertising the loopback address",
          interfaces.stream().map(LocalInterface::name).toList());
      return InetAddress.getLoopbackAddress().getHostAddress();
    }
    return hostString(chosen.get());
  }

  /**
   * Logs a warning when {@code instance} is about to be registered with a loopback host (which only
   * clients on the same host can dial).
   *
   * @return whether it warned
   */
  public static boolean warnIfLoopback(ServiceInstance instance) {
    if (!isLoopback(instance.host())) {
      return false;
    }
    logger.warn(
        "Service '{}' registers {}, a loopback address: clients on other hosts cannot reach it;"
            + " set advertiseHost to an address they can reach",
        instance.service(),
        instance.address());
    return true;
  }

  /** The first usable address, IPv4 before IPv6, interfaces in index order. */
  static Optional<InetAddress> firstReachable(List<LocalInterface> interfaces) {
    List<LocalInterface> ordered = new ArrayList<>(interfaces);
    ordered.sort(Comparator.comparingInt(LocalInterface::index));
    @Nullable InetAddress firstV6 = null;
    for (LocalInterface nic : ordered) {
      if (!nic.up() || nic.loopback()) {
        continue;
      }
      for (InetAddress address : nic.addresses()) {
        if (!usable(nic, address)) {
          continue;
        }
        if (address instanceof Inet4Address) {
          return Optional.of(address);
        }
        if (firstV6 == null) {
          firstV6 = address;
        }
      }
    }
    return Optional.ofNullable(firstV6);
  }

  // Curator's default LocalIpFilter, plus: no wildcard or multicast addresses.
  private static boolean usable(LocalInterface nic, InetAddress address) {
    return !address.isLoopbackAddress()
        && !address.isAnyLocalAddress()
        && !address.isMulticastAddress()
        && (nic.pointToPoint() || !address.isLinkLocalAddress());
  }

  /** The address as a host string, without an IPv6 scope unless it needs one (link-local). */
  private static String hostString(InetAddress address) {
    String host = address.getHostAddress();
    int scope = host.indexOf('%');
    if (address instanceof Inet6Address && !address.isLinkLocalAddress() && scope >= 0) {
      return host.substring(0, scope);
    }
    return host;
  }

  static boolean isWildcard(String host) {
    InetAddress literal = literal(host);
    return literal != null && literal.isAnyLocalAddress();
  }

  /** Whether {@code host} is a loopback literal or {@code localhost}; never asks DNS. */
  static boolean isLoopback(String host) {
    InetAddress literal = literal(host);
    if (literal != null) {
      return literal.isLoopbackAddress();
    }
    String name = host.toLowerCase(Locale.ROOT);
    return name.equals("localhost") || name.endsWith(".localhost");
  }

  /** {@code host} parsed if it is an IP literal (no DNS lookup), else null. */
  private static @Nullable InetAddress literal(String host) {
    if (!host.contains(":") && !IPV4_LITERAL.matcher(host).matches()) {
      return null; // a name: resolving it could block on DNS
    }
    try {
      return InetAddress.getByName(host);
    } catch (UnknownHostException e) {
      return null; // e.g. 999.1.1.1: not a literal after all
    }
  }

  private static List<LocalInterface> systemInterfaces() throws SocketException {
    List<LocalInterface> result = new ArrayList<>();
    var all = NetworkInterface.getNetworkInterfaces();
    if (all == null) {
      return result;
    }
    for (NetworkInterface nic : Collections.list(all)) {
      result.add(
          new LocalInterface(
              nic.getName(),
              nic.getIndex(),
              nic.isUp(),
              nic.isLoopback(),
              nic.isPointToPoint(),
              Collections.list(nic.getInetAddresses())));
    }
    return result;
  }
}
