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
  SCALE_OUT("scale-out"),
  /**
   * Antagonists (Prequal's testbed): every antagonist period each server, independently, has a
   * one-in-three chance of sharing its CPU with a neighbour that slows it by a factor drawn
   * uniformly from 1.5 to 4, until the next period. No client sees the neighbours; only the
   * servers' speed shows them.
   */
  ANTAGONISTS("antagonists");

  /** The chance that a server has an antagonist during one period. */
  static final double ANTAGONIST_CHANCE = 1.0 / 3;

  /** The slowest and fastest an antagonist makes its server, drawn uniformly between. */
  static final double ANTAGONIST_MIN = 1.5;

  static final double ANTAGONIST_MAX = 4.0;

  private final String label;

  Scenario(String label) {
    this.label = label;
  }

  /**
   * The share of the nominal capacity the servers have on average: 1, except under antagonists,
   * where a server slowed by f serves 1/f of its calls (E[1/f] = ln(max/min) / (max - min)), about
   * 0.80. Utilisation counts against this, so 100% is the capacity actually left.
   */
  double capacityFactor() {
    if (this != ANTAGONISTS) {
      return 1;
    }
    double meanSpeed =
        Math.log(ANTAGONIST_MAX / ANTAGONIST_MIN) / (ANTAGONIST_MAX - ANTAGONIST_MIN);
    return 1 - ANTAGONIST_CHANCE + ANTAGONIST_CHANCE * meanSpeed;
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
        "unknown scenario '"
            + label
            + "'; expected all, steady, slow, flapping, scale-out or antagonists");
  }
}
