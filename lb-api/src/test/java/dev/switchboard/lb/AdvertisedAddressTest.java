package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.AdvertisedAddress.LocalInterface;
import dev.switchboard.lb.AdvertisedAddress.Source;
import java.net.InetAddress;
import java.net.SocketException;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The advertised-address selection, on injected interfaces (nothing here opens a socket). */
class AdvertisedAddressTest {
  private static final String LOOPBACK = InetAddress.getLoopbackAddress().getHostAddress();

  private static final LocalInterface LO = nic("lo", 1, true, true, false, "127.0.0.1", "::1");

  @Test
  void wildcard_firstIpv4OfTheLowestIndexedInterface_evenAfterIpv6OrOnAHigherIndex() {
    Source source =
        () ->
            List.of(
                nic("docker0", 5, true, false, false, "172.17.0.1"),
                LO,
                nic("eth0", 2, true, false, false, "2001:db8::5", "fe80::1", "10.0.0.5"),
                nic("eth1", 3, true, false, false, "10.9.0.7"));

    assertThat(AdvertisedAddress.forBindHost(null, source)).isEqualTo("10.0.0.5");
    assertThat(AdvertisedAddress.forBindHost("0.0.0.0", source)).isEqualTo("10.0.0.5");
    assertThat(AdvertisedAddress.forBindHost("::", source)).isEqualTo("10.0.0.5");
    assertThat(AdvertisedAddress.forBindHost("0:0:0:0:0:0:0:0", source)).isEqualTo("10.0.0.5");
  }

  @Test
  void wildcard_skipsLoopbackDownInterfacesLinkLocalAndMulticast() {
    Source source =
        () ->
            List.of(
                LO,
                nic("eth1", 2, false, false, false, "10.1.1.1"), // down
                nic("eth0", 3, true, false, false, "169.254.7.7", "fe80::2", "224.0.0.1"),
                nic("eth2", 4, true, false, false, "192.168.1.20"));

    assertThat(AdvertisedAddress.forBindHost(null, source)).isEqualTo("192.168.1.20");
  }

  @Test
  void wildcard_ipv6Only_firstGlobalIpv6Address_withoutScope() throws Exception {
    InetAddress scoped = InetAddress.getByName("2001:db8::7%1");
    LocalInterface eth0 =
        new LocalInterface(
            "eth0", 2, true, false, false, List.of(InetAddress.getByName("fe80::9"), scoped));

    assertThat(AdvertisedAddress.forBindHost(null, () -> List.of(LO, eth0)))
        .isEqualTo("2001:db8:0:0:0:0:0:7");
  }

  @Test
  void wildcard_linkLocalOnAPointToPointInterface_counts_asInCurator() {
    Source source =
        () ->
            List.of(
                LO,
                nic("eth0", 2, true, false, false, "169.254.1.1"),
                nic("tun0", 3, true, false, true, "169.254.9.9"));

    assertThat(AdvertisedAddress.forBindHost(null, source)).isEqualTo("169.254.9.9");
  }

  @Test
  void wildcard_noReachableAddress_fallsBackToLoopback() {
    assertThat(AdvertisedAddress.forBindHost(null, () -> List.of(LO))).isEqualTo(LOOPBACK);
    assertThat(AdvertisedAddress.forBindHost(null, List::of)).isEqualTo(LOOPBACK);
    assertThat(
            AdvertisedAddress.forBindHost(
                null,
                () -> {
                  throw new SocketException("no interfaces for you");
                }))
        .isEqualTo(LOOPBACK);
  }

  @Test
  void specificBindHost_isAdvertisedAsGiven_withoutListingInterfaces() {
    Source untouchable =
        () -> {
          throw new AssertionError("interfaces listed for a specific bind host");
        };

    assertThat(AdvertisedAddress.forBindHost("127.0.0.1", untouchable)).isEqualTo("127.0.0.1");
    assertThat(AdvertisedAddress.forBindHost("10.2.3.4", untouchable)).isEqualTo("10.2.3.4");
    assertThat(AdvertisedAddress.forBindHost("api.example", untouchable)).isEqualTo("api.example");
  }

  @Test
  void warnIfLoopback_loopbackLiteralsAndLocalhost_warn_othersDoNot() {
    for (String host :
        List.of("127.0.0.1", "127.3.2.1", "::1", "0:0:0:0:0:0:0:1", "localhost", "a.LOCALHOST")) {
      assertThat(AdvertisedAddress.warnIfLoopback(instance(host))).as(host).isTrue();
    }
    for (String host : List.of("10.0.0.5", "2001:db8::1", "api.example", "localhost.example")) {
      assertThat(AdvertisedAddress.warnIfLoopback(instance(host))).as(host).isFalse();
    }
  }

  @Test
  void systemSource_listsThisHostsInterfaces_includingLoopback() throws SocketException {
    assertThat(Source.system().interfaces()).anyMatch(LocalInterface::loopback);
  }

  private static ServiceInstance instance(String host) {
    return ServiceInstance.builder("echo", host, 9090).build();
  }

  private static LocalInterface nic(
      String name,
      int index,
      boolean up,
      boolean loopback,
      boolean pointToPoint,
      String... addresses) {
    List<InetAddress> parsed =
        Arrays.stream(addresses)
            .map(
                a -> {
                  try {
                    return InetAddress.getByName(a); // literals: no DNS
                  } catch (UnknownHostException e) {
                    throw new AssertionError(e);
                  }
                })
            .toList();
    return new LocalInterface(name, index, up, loopback, pointToPoint, parsed);
  }
}
