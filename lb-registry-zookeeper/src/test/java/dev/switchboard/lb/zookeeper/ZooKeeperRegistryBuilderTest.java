package dev.switchboard.lb.zookeeper;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.retry.RetryOneTime;
import org.junit.jupiter.api.Test;

/** Builder validation; needs no server. */
class ZooKeeperRegistryBuilderTest {

  @Test
  void connectString_blank_namesTheValue() {
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().connectString(" "))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("connectString must not be blank but was ' '");
  }

  @Test
  void basePath_notAbsoluteOrTrailingSlash_namesTheValue() {
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().basePath("services"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was 'services'");
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().basePath("/services/"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was '/services/'");
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().basePath("/a//b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'/a//b'");
  }

  @Test
  void digestAcl_badUserOrPassword_namesTheValue() {
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().digestAcl("us:er", "pw"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'us:er'");
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().digestAcl("", "pw"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("but was ''");
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().digestAcl("user", ""))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("password must not be empty (user 'user')");
  }

  @Test
  void timeouts_notPositive_nameTheValue() {
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().sessionTimeout(Duration.ZERO))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("sessionTimeout")
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().connectionTimeout(Duration.ofMillis(-5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("connectionTimeout")
        .hasMessageContaining("PT-0.005S");
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().sessionTimeout(Duration.ofDays(30)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT720H");
  }

  @Test
  void client_notStarted_isRejected() {
    CuratorFramework unstarted =
        CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(1));

    assertThatThrownBy(() -> ZooKeeperRegistry.builder().client(unstarted))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("client must be started but was LATENT");
  }

  @Test
  void build_neitherOrBothSources_isAConflict() {
    assertThatThrownBy(() -> ZooKeeperRegistry.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("exactly one of connectString and client");
  }

  @Test
  void build_clientWithOwnClientSettings_isAConflict() {
    CuratorFramework client = CuratorFrameworkFactory.newClient("127.0.0.1:1", new RetryOneTime(1));
    client.start();
    try {
      assertThatThrownBy(
              () -> ZooKeeperRegistry.builder().client(client).digestAcl("u", "p").build())
          .isInstanceOf(IllegalStateException.class)
          .hasMessageContaining("set them on that client");
      assertThatThrownBy(
              () ->
                  ZooKeeperRegistry.builder()
                      .client(client)
                      .sessionTimeout(Duration.ofSeconds(5))
                      .build())
          .isInstanceOf(IllegalStateException.class);
      assertThatThrownBy(
              () -> ZooKeeperRegistry.builder().client(client).connectString("127.0.0.1:1").build())
          .isInstanceOf(IllegalStateException.class);
    } finally {
      client.close();
    }
  }
}
