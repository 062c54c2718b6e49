package dev.switchboard.lb.consul;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.switchboard.lb.ServiceInstance;
import java.util.List;
import org.junit.jupiter.api.Test;

class MemberDecoderTest {
  private final MemberDecoder decoder = new MemberDecoder("orders", new ServiceCodec());

  private static String entry(String node, String id, String address, String port) {
    return "{\"Node\":{\"Node\":\""
        + node
        + "\",\"Address\":\"127.0.0.1\"},\"Service\":{\"ID\":\""
        + id
        + "\",\"Service\":\"orders\",\"Address\":\""
        + address
        + "\",\"Port\":"
        + port
        + "},\"Checks\":[]}";
  }

  private List<ServiceInstance> decode(String... entries) throws Exception {
    return decoder.decode(("[" + String.join(",", entries) + "]").getBytes(UTF_8));
  }

  @Test
  void malformedEntries_skipped_warnedOncePerVersion() throws Exception {
    String good = entry("a", "good", "h", "1");
    String noPort = entry("a", "no-port", "h", "null");
    String badPort = entry("a", "bad-port", "h", "\"x\"");

    assertThat(decode(good, noPort, badPort))
        .extracting(ServiceInstance::id)
        .containsExactly("good");
    assertThat(decoder.malformedWarnings()).isEqualTo(2);

    decode(good, noPort, badPort);
    decode(badPort, good, noPort, entry("a", "other", "h", "2"));
    assertThat(decoder.malformedWarnings()).as("same entries, no new warnings").isEqualTo(2);

    decode(good, entry("a", "bad-port", "h", "\"y\""));
    assertThat(decoder.malformedWarnings()).as("a changed entry is judged again").isEqualTo(3);

    decode(good);
    decode(good, noPort);
    assertThat(decoder.malformedWarnings()).as("gone and back: warned again").isEqualTo(4);
  }

  @Test
  void sameServiceIdOnTwoNodes_bothKept_withTheNodeInTheId() throws Exception {
    List<ServiceInstance> members =
        decode(
            entry("b", "orders-8080", "h2", "8080"),
            entry("a", "orders-8080", "h1", "8080"),
            entry("a", "x", "h", "1"));

    assertThat(members)
        .extracting(ServiceInstance::id)
        .containsExactly("orders-8080@a", "orders-8080@b", "x");
  }

  @Test
  void bodyThatIsNotAnArray_isMalformedAsAWhole() {
    for (String body : List.of("<html>502 Bad Gateway</html>", "{\"error\":\"x\"}", "", "null")) {
      assertThatThrownBy(() -> decoder.decode(body.getBytes(UTF_8)))
          .as(body)
          .isInstanceOf(MemberDecoder.MalformedBodyException.class);
    }
  }
}
