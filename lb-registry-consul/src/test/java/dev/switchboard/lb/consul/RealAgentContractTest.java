package dev.switchboard.lb.consul;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.URI;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeAll;

/**
 * The registry contract against a real Consul agent, when {@code CONSUL_HTTP_ADDR} is set (as the
 * consul CLI reads it: {@code 127.0.0.1:8500} or a URI; {@code CONSUL_HTTP_SSL=true} for https
 * without a scheme; {@code CONSUL_HTTP_TOKEN} for ACLs). Skipped otherwise, with the reason: no
 * real Consul can be installed on the machines this project builds on.
 *
 * <p>For example: {@code consul agent -dev -client 127.0.0.1} and {@code
 * CONSUL_HTTP_ADDR=127.0.0.1:8500 mvn -B verify -pl lb-registry-consul
 * -Dtest=RealAgentContractTest}.
 */
class RealAgentContractTest extends RegistryContract {
  private static URI agent;
  private static @Nullable String token;

  @BeforeAll
  static void requireAgent() {
    String address = System.getenv("CONSUL_HTTP_ADDR");
    String reason =
        "CONSUL_HTTP_ADDR is not set: no real Consul agent to test against (the stand-in contract"
            + " ran in StandInContractTest); set it to run these against one";
    if (address == null || address.isBlank()) {
      System.out.println("[real agent] skipped: " + reason);
    }
    assumeTrue(address != null && !address.isBlank(), reason);
    boolean ssl = "true".equalsIgnoreCase(System.getenv("CONSUL_HTTP_SSL"));
    agent =
        URI.create(address.contains("://") ? address : (ssl ? "https://" : "http://") + address);
    String t = System.getenv("CONSUL_HTTP_TOKEN");
    token = t == null || t.isBlank() ? null : t;
    System.out.println("[real agent] testing against " + agent);
  }

  @Override
  URI agent() {
    return agent;
  }

  @Override
  @Nullable String token() {
    return token;
  }
}
