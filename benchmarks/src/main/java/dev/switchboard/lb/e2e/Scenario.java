package dev.switchboard.lb.e2e;

import java.util.List;

/** What happens to the servers during a cell's measurement, and which modes it compares. */
enum Scenario {
  /** Nothing: the overhead comparison. */
  STEADY(
      "steady", "steady", List.of(Mode.PEAK_EWMA, Mode.HAPROXY, Mode.DIRECT, Mode.DIRECT_SPREAD)),
  /** One server SIGKILLed half way through. */
  KILL("kill", "kill -9 one server", List.of(Mode.PEAK_EWMA, Mode.HAPROXY, Mode.DIRECT)),
  /** One server's echo sleeps 20 ms more, from before the warm-up. */
  SLOW(
      "slow",
      "one server +20 ms",
      List.of(
          Mode.PEAK_EWMA,
          Mode.HAPROXY,
          Mode.PEAK_EWMA_HEDGED,
          Mode.LEAST_CONNECTIONS,
          Mode.ROUND_ROBIN,
          Mode.DIRECT)),
  /** One server pinned to a CPU that busy threads keep at 100%, from before the warm-up. */
  CPU_BURN(
      "cpu",
      "one server 100% CPU",
      List.of(Mode.ROUND_ROBIN, Mode.PEAK_EWMA, Mode.HAPROXY, Mode.LEAST_CONNECTIONS, Mode.DIRECT)),
  /** Every server in turn drains, exits and comes back on its port. */
  ROLLING_RESTART(
      "rolling", "rolling restart (drain)", List.of(Mode.PEAK_EWMA, Mode.HAPROXY, Mode.DIRECT)),
  /**
   * The victim runs on a network lab host whose every packet is dropped from the start of the
   * window (a black hole: no RST, SYNs unanswered), while it is still registered.
   */
  VANISH("vanish", "vanished (black hole)", Mode.NETWORK_FAULT_MODES),
  /**
   * The victim's service port is unreachable from the client side (and HAProxy) from the start of
   * the window, while its registry session works; healed a quarter of the way through.
   */
  PARTITION("partition", "partitioned, healed at 1/4", Mode.NETWORK_FAULT_MODES),
  /** {@value #LOSS_PERCENT}% of the victim's packets are dropped, each way, for the window. */
  LOSS("loss", Scenario.LOSS_PERCENT + "% packet loss", Mode.NETWORK_FAULT_MODES);

  /** The packet loss of the loss scenario. */
  static final int LOSS_PERCENT = 10;

  /** The server the kill, slow and CPU scenarios pick on. */
  static final int VICTIM = 0;

  /** The extra latency of the slow server. */
  static final int SLOW_MILLIS = 20;

  /** The name {@code --scenarios} takes. */
  final String key;

  /** The scenario column. */
  final String label;

  /** The modes compared, in the order run (Switchboard and HAProxy alternate). */
  final List<Mode> modes;

  Scenario(String key, String label, List<Mode> modes) {
    this.key = key;
    this.label = label;
    this.modes = modes;
  }

  /** The scenario {@code --scenarios} names {@code key}. */
  static Scenario byKey(String key) {
    for (Scenario s : values()) {
      if (s.key.equals(key)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown scenario '"
            + key
            + "' (known: steady, kill, slow, cpu, rolling, vanish, partition, loss)");
  }

  /** Whether the victim server's share of calls is reported. */
  boolean reportsShare() {
    return this == SLOW || this == CPU_BURN || isNetworkFault();
  }

  /** Whether the victim runs on a network lab host whose network fails (root only). */
  boolean isNetworkFault() {
    return this == VANISH || this == PARTITION || this == LOSS;
  }
}
