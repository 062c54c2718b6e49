package dev.switchboard.lb.consul;

import dev.switchboard.lb.consul.testing.ConsulStandIn;
import java.net.URI;
import java.time.Duration;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.BeforeEach;

/** The registry contract against the in-process stand-in agent (every build). */
class StandInContractTest extends RegistryContract {
  private ConsulStandIn standIn;

  @BeforeEach
  void startStandIn() {
    standIn = ConsulStandIn.builder().deregisterCriticalMinimum(Duration.ZERO).start();
  }

  @Override
  void stopAgent() {
    standIn.close();
  }

  @Override
  URI agent() {
    return standIn.uri();
  }

  @Override
  @Nullable String token() {
    return null;
  }
}
