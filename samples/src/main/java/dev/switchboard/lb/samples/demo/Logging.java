package dev.switchboard.lb.samples.demo;

/**
 * Configures SLF4J's simple backend (to standard error) for the demo's processes before the first
 * logger is created. Settings already given with {@code -D} win.
 */
final class Logging {
  private Logging() {}

  static void configure(boolean verbose) {
    setDefault("org.slf4j.simpleLogger.defaultLogLevel", verbose ? "info" : "warn");
    // ZooKeeper and Curator log every connection and session event; their warnings during a
    // kill -9 (a peer vanished) are the demo's point, not a problem.
    setDefault("org.slf4j.simpleLogger.log.org.apache.zookeeper", verbose ? "warn" : "error");
    setDefault("org.slf4j.simpleLogger.log.org.apache.curator", verbose ? "warn" : "error");
    setDefault("org.slf4j.simpleLogger.showDateTime", "true");
    setDefault("org.slf4j.simpleLogger.dateTimeFormat", "HH:mm:ss.SSS");
    // The embedded ZooKeeper needs no admin HTTP server (and Jetty is not on the class path).
    setDefault("zookeeper.admin.enableServer", "false");
  }

  private static void setDefault(String key, String value) {
    if (System.getProperty(key) == null) {
      System.setProperty(key, value);
    }
  }
}
