package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.BalancingPolicy;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Optional;

/**
 * The demo's command line, parsed and validated.
 *
 * @param duration how long traffic runs; the script's steps are placed at fixed fractions of it
 * @param policy the balancing policy's name as typed, normalised (for example {@code peak-ewma})
 * @param callers caller threads making echo calls
 * @param zookeeper an external ZooKeeper to use, empty for an embedded one on 127.0.0.1
 * @param verbose whether to show the servers' output and the libraries' INFO logs
 * @param help whether to print the usage and exit
 */
record DemoOptions(
    Duration duration,
    String policy,
    int callers,
    Optional<String> zookeeper,
    boolean verbose,
    boolean help) {

  static final Duration DEFAULT_DURATION = Duration.ofSeconds(50);
  static final Duration MIN_DURATION = Duration.ofSeconds(10);

  static final String USAGE =
      """
      Usage: java -jar samples/target/switchboard-demo.jar [options]

        --duration <time>        how long traffic runs: 50s (default), 2m, 15s ... (at least 10s).
                                 The script scales with it: kill -9 at 15%, a new server at 35%,
                                 a graceful drain at 65%, slow start over 25% of the run
        --policy <name>          peak-ewma (default), round-robin, least-connections,
                                 weighted-random
        --callers <n>            caller threads making idempotent echo calls (default 8)
        --zookeeper <host:port>  use this ZooKeeper instead of an embedded one on 127.0.0.1
                                 (instances go under /switchboard-demo)
        --verbose                also show the servers' output and the libraries' INFO logs
        --help                   print this and exit
      """;

  DemoOptions {
    if (duration.compareTo(MIN_DURATION) < 0) {
      throw new IllegalArgumentException(
          "--duration must be at least "
              + MIN_DURATION.toSeconds()
              + "s but was "
              + human(duration));
    }
    if (callers < 1 || callers > 256) {
      throw new IllegalArgumentException("--callers must be between 1 and 256 but was " + callers);
    }
    policyOf(policy); // validates
  }

  /** The defaults: 50 s, peak EWMA, 8 callers, embedded ZooKeeper. */
  static DemoOptions defaults() {
    return new DemoOptions(DEFAULT_DURATION, "peak-ewma", 8, Optional.empty(), false, false);
  }

  /**
   * Parses {@code --flag value} and {@code --flag=value} forms.
   *
   * @throws IllegalArgumentException naming the bad flag or value
   */
  static DemoOptions parse(String... args) {
    DemoOptions o = defaults();
    Duration duration = o.duration;
    String policy = o.policy;
    int callers = o.callers;
    Optional<String> zookeeper = o.zookeeper;
    boolean verbose = false;
    boolean help = false;
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      String flag = arg;
      String value = null;
      int eq = arg.indexOf('=');
      if (arg.startsWith("--") && eq > 0) {
        flag = arg.substring(0, eq);
        value = arg.substring(eq + 1);
      }
      switch (flag) {
        case "--help", "-h" -> help = true;
        case "--verbose", "-v" -> verbose = true;
        case "--duration", "--policy", "--callers", "--zookeeper" -> {
          if (value == null) {
            if (i + 1 >= args.length) {
              throw new IllegalArgumentException(flag + " needs a value");
            }
            value = args[++i];
          }
          switch (flag) {
            case "--duration" -> duration = parseDuration(value);
            case "--policy" -> policy = normalise(value);
            case "--callers" -> callers = parseInt(flag, value);
            default -> zookeeper = Optional.of(parseHostPort(value));
          }
        }
        default -> throw new IllegalArgumentException("unknown option '" + arg + "'");
      }
    }
    return new DemoOptions(duration, policy, callers, zookeeper, verbose, help);
  }

  /** The policy this name stands for. */
  BalancingPolicy balancingPolicy() {
    return policyOf(policy);
  }

  private static BalancingPolicy policyOf(String name) {
    return switch (normalise(name)) {
      case "peak-ewma" -> BalancingPolicy.peakEwma();
      case "round-robin" -> BalancingPolicy.roundRobin();
      case "least-connections" -> BalancingPolicy.leastConnections();
      case "weighted-random" -> BalancingPolicy.weightedRandom();
      default ->
          throw new IllegalArgumentException(
              "--policy must be one of peak-ewma, round-robin, least-connections, weighted-random"
                  + " but was '"
                  + name
                  + "'");
    };
  }

  /** {@code peak_ewma}, {@code peakEwma} and {@code PEAK-EWMA} all become {@code peak-ewma}. */
  private static String normalise(String name) {
    String dashed = name.strip().replaceAll("([a-z])([A-Z])", "$1-$2").replace('_', '-');
    return dashed.toLowerCase(Locale.ROOT);
  }

  /** {@code 50s}, {@code 2m}, {@code 1500ms}, {@code 90} (seconds) or ISO-8601 {@code PT50S}. */
  static Duration parseDuration(String text) {
    String t = text.strip().toLowerCase(Locale.ROOT);
    try {
      if (t.startsWith("pt")) {
        return Duration.parse(t);
      }
      if (t.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
      }
      if (t.endsWith("s")) {
        return Duration.ofMillis(
            Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 1e3));
      }
      if (t.endsWith("m")) {
        return Duration.ofMillis(
            Math.round(Double.parseDouble(t.substring(0, t.length() - 1)) * 6e4));
      }
      return Duration.ofMillis(Math.round(Double.parseDouble(t) * 1e3));
    } catch (NumberFormatException | DateTimeParseException e) {
      throw new IllegalArgumentException(
          "--duration must look like 50s, 2m or 1500ms but was '" + text + "'", e);
    }
  }

  private static int parseInt(String flag, String value) {
    try {
      return Integer.parseInt(value.strip());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " must be a number but was '" + value + "'", e);
    }
  }

  private static String parseHostPort(String value) {
    String v = value.strip();
    int colon = v.lastIndexOf(':');
    if (v.isEmpty() || (colon >= 0 && colon == v.length() - 1)) {
      throw new IllegalArgumentException(
          "--zookeeper must look like host:port (or a list of them) but was '" + value + "'");
    }
    return v;
  }

  static String human(Duration d) {
    long ms = d.toMillis();
    return ms % 1000 == 0 ? ms / 1000 + "s" : String.format(Locale.ROOT, "%.1fs", ms / 1e3);
  }
}
