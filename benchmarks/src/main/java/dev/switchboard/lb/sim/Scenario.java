package dev.switchboard.lb.sim;

/** What happens to the servers during one simulated run. */
enum Scenario {
  /** Every server equal, membership fixed. */
  STEADY("steady"),
  /** Server 0 serves every request {@code slowFactor} times slower, for the whole run. */
  SLOW("slow"),
  /** The last server leaves the registry and rejoins, alternately, every flap period. */
  FLAPPING("flapping"),
  /** As many servers again join the registry halfway through the run. */
  SCALE_OUT("scale-out");

  private final String label;

  Scenario(String label) {
    this.label = label;
  }

  /** The name on the command line and in the table. */
  String label() {
    return label;
  }

  /**
   * The scenario called {@code label}.
   *
   * @throws IllegalArgumentException for an unknown label
   */
  static Scenario of(String label) {
    for (Scenario s : values()) {
      if (s.label.equals(label)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown scenario '" + label + "'; expected all, steady, slow, flapping or scale-out");
  }
}
