package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.thrift.test.Echo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A hash key from the call's arguments: under consistent hashing each key's calls go to one server,
 * and different keys spread over the servers.
 */
class HashKeyTest {
  private final ThriftFixture f = new ThriftFixture();

  @AfterEach
  void tearDown() {
    f.close();
  }

  private List<Long> callsPerServer() {
    List<Long> calls = new ArrayList<>();
    for (EchoHandler h : f.servers.values()) {
      calls.add(h.calls());
    }
    return calls;
  }

  @Test
  void hashKeyFromTheFirstArgument_sameKeyAlwaysReachesTheSameServer_keysSpread() throws Exception {
    for (int i = 0; i < 3; i++) {
      f.start();
    }
    ThriftCluster cluster = f.cluster(BalancingPolicy.consistentHash());
    Echo.Iface echo =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster)
            .hashKey("echo", args -> args[0])
            .timeout(Duration.ofSeconds(5))
            .build();

    Set<Integer> serversHit = new HashSet<>();
    for (int k = 0; k < 12; k++) {
      List<Long> before = callsPerServer();
      for (int i = 0; i < 10; i++) {
        assertThat(echo.echo("user-" + k)).isEqualTo("user-" + k);
      }
      List<Long> after = callsPerServer();
      int server = -1;
      for (int s = 0; s < after.size(); s++) {
        long delta = after.get(s) - before.get(s);
        if (delta > 0) {
          assertThat(delta).as("all 10 calls of user-%d on one server", k).isEqualTo(10);
          server = s;
        }
      }
      serversHit.add(server);
    }
    assertThat(serversHit).as("servers that own at least one of 12 keys").hasSizeGreaterThan(1);
  }

  @Test
  void hashKey_unknownMethodRejected_throwingFunctionFailsTheCallNamingTheMethod()
      throws Exception {
    f.start();
    ThriftCluster cluster = f.cluster(BalancingPolicy.consistentHash());
    ThriftClients.Builder<Echo.Iface> b =
        ThriftClients.builder(Echo.Iface.class, Echo.Client::new, cluster);
    assertThatThrownBy(() -> b.hashKey("nope", args -> args[0]))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no method 'nope'");
    Echo.Iface echo =
        b.hashKey(
                "echo",
                args -> {
                  throw new IllegalStateException("no key here");
                })
            .build();
    assertThatThrownBy(() -> echo.echo("x"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Iface.echo");
  }
}
