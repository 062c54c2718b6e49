package dev.switchboard.lb.samples.demo;

import java.util.Map;
import org.apache.curator.test.InstanceSpec;
import org.apache.curator.test.TestingServer;

/** A real standalone ZooKeeper server in this JVM (Curator's {@code TestingServer}). */
final class EmbeddedZooKeeper {
  /** ZooKeeper grants sessions of 2 to 20 ticks: 0.5 s to 5 s here. */
  private static final int TICK_MS = 250;

  private EmbeddedZooKeeper() {}

  /** Starts a server on a free port of 127.0.0.1, its data in a temporary directory. */
  static TestingServer start() throws Exception {
    InstanceSpec spec =
        new InstanceSpec(
            null, // a temporary data directory,
            -1, // a free port,
            -1,
            -1,
            true, // deleted on close
            -1,
            TICK_MS,
            -1,
            Map.of("clientPortAddress", "127.0.0.1", "admin.enableServer", "false"),
            "127.0.0.1");
    return new TestingServer(spec, true);
  }
}
