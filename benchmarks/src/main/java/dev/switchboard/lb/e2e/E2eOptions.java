package dev.switchboard.lb.e2e;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The harness's command line.
 *
 * @param quick the CI smoke test: short cells, steady and kill scenarios only
 * @param servers echo server processes per cell
 * @param callers closed-loop caller threads
 * @param duration the measured part of each cell
 * @param warmUp the unmeasured start of each cell
 * @param payload bytes per echo request
 * @param rounds how many times each scenario's modes run in turn (each for {@code duration /
 *     rounds}), so that a noisy moment of the machine does not fall on one mode only
 * @param scenarios the scenarios to run, in order
 * @param markdown where to write the table as markdown, if anywhere
 */
record E2eOptions(
    boolean quick,
    int servers,
    int callers,
    Duration duration,
    Duration warmUp,
    int payload,
    int rounds,
    List<Scenario> scenarios,
    Optional<Path> markdown) {

  static final String USAGE =
      """
      usage: java -cp benchmarks/target/benchmarks.jar dev.switchboard.lb.e2e.EndToEnd [options]
        --quick             smoke test (<= 60 s): 2 s cells, 1 s warm-up, steady and kill only
        --servers N         echo server processes per cell (default 3, at least 2)
        --callers N         closed-loop caller threads (default 16)
        --duration D        measured time per cell, e.g. 10s, 1500ms (default 10s; quick 2s)
        --warmup D          unmeasured warm-up per cell (default 3s; quick 1s)
        --payload N         bytes per echo request (default 64)
        --rounds N          run each scenario's modes N times in turn, duration/N each, and
                            merge (default 2; quick 1)
        --scenarios LIST    comma-separated: steady,kill,slow,cpu,rolling and the network
                            faults vanish,partition,loss (root only: skipped, saying why,
                            elsewhere) (default all; quick steady,kill)
        --markdown FILE     also write the table and ratios to FILE as markdown
        --help              this text""";

  /**
   * Parses {@code args}.
   *
   * @throws IllegalArgumentException naming the bad flag or value
   */
  static E2eOptions parse(String... args) {
    boolean quick = false;
    int servers = 3;
    int callers = 16;
    Duration duration = null;
    Duration warmUp = null;
    int payload = 64;
    Integer rounds = null;
    List<Scenario> scenarios = null;
    Path markdown = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      switch (flag) {
        case "--quick" -> quick = true;
        case "--help", "-h" -> throw new IllegalArgumentException("help");
        case "--servers" -> servers = count(flag, value(args, ++i, flag), 2, 64);
        case "--callers" -> callers = count(flag, value(args, ++i, flag), 1, 1024);
        case "--duration" -> duration = duration(flag, value(args, ++i, flag));
        case "--warmup" -> warmUp = duration(flag, value(args, ++i, flag));
        case "--payload" -> payload = count(flag, value(args, ++i, flag), 1, 1 << 20);
        case "--rounds" -> rounds = count(flag, value(args, ++i, flag), 1, 20);
        case "--scenarios" -> scenarios = scenarios(value(args, ++i, flag));
        case "--markdown" -> markdown = Path.of(value(args, ++i, flag));
        default -> throw new IllegalArgumentException("unknown option '" + flag + "'");
      }
    }
    if (duration == null) {
      duration = quick ? Duration.ofSeconds(2) : Duration.ofSeconds(10);
    }
    if (warmUp == null) {
      warmUp = quick ? Duration.ofSeconds(1) : Duration.ofSeconds(3);
    }
    if (rounds == null) {
      rounds = quick ? 1 : 2;
    }
    if (scenarios == null) {
      scenarios = quick ? List.of(Scenario.STEADY, Scenario.KILL) : List.of(Scenario.values());
    }
    return new E2eOptions(
        quick,
        servers,
        callers,
        duration,
        warmUp,
        payload,
        rounds,
        scenarios,
        Optional.ofNullable(markdown));
  }

  /** The measured time of one round of a cell. */
  Duration roundDuration() {
    return duration.dividedBy(rounds);
  }

  private static String value(String[] args, int i, String flag) {
    if (i >= args.length || args[i].startsWith("--")) {
      throw new IllegalArgumentException(flag + " needs a value");
    }
    return args[i];
  }

  private static int count(String flag, String value, int min, int max) {
    int n;
    try {
      n = Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " takes a whole number but was '" + value + "'");
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(
          flag + " must be between " + min + " and " + max + " but was " + n);
    }
    return n;
  }

  /** {@code 10s}, {@code 1500ms}, {@code 2m}, or plain seconds. */
  static Duration duration(String flag, String value) {
    String v = value.strip().toLowerCase(Locale.ROOT);
    Duration d;
    try {
      if (v.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else if (v.endsWith("s")) {
        d = Duration.ofMillis(Math.round(Double.parseDouble(v.substring(0, v.length() - 1)) * 1e3));
      } else if (v.endsWith("m")) {
        d = Duration.ofSeconds(Long.parseLong(v.substring(0, v.length() - 1)) * 60);
      } else {
        d = Duration.ofMillis(Math.round(Double.parseDouble(v) * 1e3));
      }
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          flag + " takes a duration like 10s or 500ms but was '" + value + "'");
    }
    if (d.compareTo(Duration.ofMillis(200)) < 0 || d.compareTo(Duration.ofHours(1)) > 0) {
      throw new IllegalArgumentException(
          flag + " must be between 200ms and 1h but was '" + value + "'");
    }
    return d;
  }

  private static List<Scenario> scenarios(String value) {
    List<Scenario> list = new ArrayList<>();
    for (String key : value.split(",")) {
      Scenario s = Scenario.byKey(key.strip());
      if (!list.contains(s)) {
        list.add(s);
      }
    }
    return List.copyOf(list);
  }
}
