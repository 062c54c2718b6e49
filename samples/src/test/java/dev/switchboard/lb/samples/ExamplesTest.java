package dev.switchboard.lb.samples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.consul.testing.ConsulStandIn;
import dev.switchboard.lb.thrift.ThriftServer;
import dev.switchboard.lb.zookeeper.ZooKeeperRegistry;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.curator.test.TestingServer;
import org.junit.jupiter.api.Test;

/**
 * The README's code examples: each runs, and each snippet the README shows is the code compiled
 * here (a {@code // README: name} region of a class in this package), so neither can rot.
 */
class ExamplesTest {
  private static final Path SOURCES = Path.of("src/main/java/dev/switchboard/lb/samples");
  private static final Path README = Path.of("../README.md");
  private static final Pattern REGION =
      Pattern.compile("// README: ([a-z-]+)\\R(.*?)// README: end", Pattern.DOTALL);
  private static final Pattern README_BLOCK =
      Pattern.compile("<!-- snippet: ([a-z-]+) -->\\R```java\\R(.*?)```", Pattern.DOTALL);

  @Test
  void consulExample_registersServesAndDeregisters_againstTheStandInAgent() throws Exception {
    try (ConsulStandIn agent = ConsulStandIn.start()) {
      assertThat(ConsulExample.serveAndCall(agent.uri())).isEqualTo("hello over Consul");

      // The server drained and deregistered itself on close.
      assertThat(agent.serviceIds()).isEmpty();
      assertThat(agent.requestCount("PUT", "/v1/agent/service/deregister/")).isEqualTo(1);
    }
  }

  @Test
  void thriftExample_serverRegistersInZooKeeper_clientCallsIt() throws Exception {
    try (TestingServer zookeeper = new TestingServer(true);
        ZooKeeperRegistry registry =
            ZooKeeperRegistry.builder().connectString(zookeeper.getConnectString()).build();
        ThriftServer server = ThriftExample.serve(registry, "127.0.0.1")) {
      assertThat(ThriftExample.call(zookeeper.getConnectString())).isEqualTo("hello");
    }
  }

  @Test
  void everyReadmeSnippet_isCompiledCode() throws IOException {
    Map<String, String> regions = new LinkedHashMap<>();
    try (var files = Files.list(SOURCES)) {
      for (Path file : files.filter(f -> f.toString().endsWith(".java")).toList()) {
        Matcher m = REGION.matcher(Files.readString(file, StandardCharsets.UTF_8));
        while (m.find()) {
          assertThat(regions.put(m.group(1), m.group(2)))
              .as("region %s twice", m.group(1))
              .isNull();
        }
      }
    }
    Matcher m = README_BLOCK.matcher(Files.readString(README, StandardCharsets.UTF_8));
    List<String> shown = new ArrayList<>();
    while (m.find()) {
      String name = m.group(1);
      shown.add(name);
      assertThat(regions)
          .as("README snippet %s has a region in %s", name, SOURCES)
          .containsKey(name);
      assertLinesInOrder(name, m.group(2), regions.get(name));
    }
    assertThat(shown)
        .as("every region is shown in the README")
        .containsExactlyInAnyOrderElementsOf(regions.keySet());
  }

  /**
   * Every README line (trimmed; {@code ...} stands for code left out) appears in the region, in the
   * same order.
   */
  private static void assertLinesInOrder(String name, String readme, String region) {
    List<String> code = region.lines().map(String::strip).filter(l -> !l.isEmpty()).toList();
    int at = 0;
    for (String line : readme.lines().map(String::strip).filter(l -> !l.isEmpty()).toList()) {
      String prefix = line.contains("...") ? line.substring(0, line.indexOf("...")).strip() : line;
      int found = -1;
      for (int i = at; i < code.size(); i++) {
        if (line.contains("...") ? code.get(i).startsWith(prefix) : code.get(i).equals(line)) {
          found = i;
          break;
        }
      }
      assertThat(found)
          .as("README snippet %s: line not in the compiled code (in order): %s", name, line)
          .isNotNegative();
      at = found + 1;
    }
  }
}
