package dev.switchboard.lb.sim;

import dev.switchboard.lb.SeededPolicies;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The simulator's settings, from the command line. Immutable; validated on construction, with the
 * bad value named in the message.
 *
 * @param requests calls per run (one run = one scenario × one policy), spread over the clients
 * @param utilisation offered load as a fraction of the nominal capacity of the initial servers
 *     ({@code servers × workers / serviceMean}) in this run; neither the slow server nor the
 *     antagonists lower the nominal figure
 * @param utilisations every utilisation to run, in order ({@code utilisation} is the first)
 * @param registryDelayMillis a registry change reaches each client after a uniform random delay of
 *     up to this much
 * @param timeoutMillis a client gives up on a call after this long and records a timeout (0: never)
 */
record SimConfig(
    long seed,
    int clients,
    int servers,
    int requests,
    List<Scenario> scenarios,
    List<String> policies,
    double utilisation,
    List<Double> utilisations,
    int workers,
    ServiceTime serviceTime,
    double serviceMeanMillis,
    double slowFactor,
    double flapPeriodSeconds,
    double registryDelayMillis,
    double timeoutMillis,
    double probeDelayMillis,
    double antagonistPeriodSeconds,
    @Nullable Path markdown) {

  static final String USAGE =
      """
      usage: java -cp benchmarks/target/benchmarks.jar dev.switchboard.lb.sim.Simulator [options]
        --seed N                 random seed (default 1); the same seed prints the same table
        --clients K              client processes, each with its own view and pickers (default 8)
        --servers N              servers at the start (default 10)
        --requests R             calls per scenario and policy (default 200000)
        --scenario S[,S...]      all | steady | slow | flapping | scale-out | antagonists
                                 (default all)
        --policies P[,P...]      all | round_robin | least_connections | peak_ewma |
                                 weighted_random | consistent_hash | prequal (default all)
        --utilisation U[,U...]   offered load / nominal capacity, 0 < U < 2; 1 and above need
                                 --timeout-ms (default 0.7)
        --workers C              parallel workers per server (default 2)
        --service D              exponential | lognormal | constant (default exponential)
        --service-mean-ms M      mean service time (default 5)
        --slow-factor F          the slow server's service-time multiplier (default 8)
        --flap-period-s T        the flapping server leaves, and rejoins, every T s (default 2)
        --registry-delay-ms L    registry updates reach each client within L ms (default 100)
        --timeout-ms T           clients give up on a call after T ms; 0 = never (default 0)
        --probe-delay-ms D       a prequal probe's round trip (default 0.5)
        --antagonist-period-s T  antagonists move to other servers every T s (default 1)
        --markdown FILE          also write the table as markdown to FILE
        --help                   this text
      """;

  SimConfig {
    require(clients >= 1 && clients <= 10_000, "--clients must be 1..10000 but was " + clients);
    require(servers >= 2 && servers <= 10_000, "--servers must be 2..10000 but was " + servers);
    require(requests >= 1, "--requests must be at least 1 but was " + requests);
    require(!scenarios.isEmpty(), "--scenario names no scenario");
    require(!policies.isEmpty(), "--policies names no policy");
    require(!utilisations.isEmpty(), "--utilisation names no value");
    for (double u : utilisations) {
      require(u > 0 && u < 2, "--utilisation must be in (0, 2) but was " + u);
      require(
          u < 1 || timeoutMillis > 0,
          "--utilisation " + u + " needs --timeout-ms: past capacity, queues grow without bound");
    }
    require(
        probeDelayMillis >= 0 && probeDelayMillis <= 60_000,
        "--probe-delay-ms must be in [0, 60000] but was " + probeDelayMillis);
    require(
        antagonistPeriodSeconds >= 0.001 && antagonistPeriodSeconds <= 86_400,
        "--antagonist-period-s must be in [0.001, 86400] but was " + antagonistPeriodSeconds);
    require(workers >= 1 && workers <= 1_000, "--workers must be 1..1000 but was " + workers);
    require(
        serviceMeanMillis > 0 && serviceMeanMillis <= 60_000,
        "--service-mean-ms must be in (0, 60000] but was " + serviceMeanMillis);
    require(
        slowFactor >= 1 && slowFactor <= 1_000,
        "--slow-factor must be in [1, 1000] but was " + slowFactor);
    require(
        flapPeriodSeconds >= 0.001 && flapPeriodSeconds <= 86_400,
        "--flap-period-s must be in [0.001, 86400] but was " + flapPeriodSeconds);
    require(
        registryDelayMillis >= 0 && registryDelayMillis <= 60_000,
        "--registry-delay-ms must be in [0, 60000] but was " + registryDelayMillis);
    require(
        timeoutMillis >= 0 && timeoutMillis <= 3_600_000,
        "--timeout-ms must be in [0, 3600000] but was " + timeoutMillis);
    utilisations = List.copyOf(utilisations);
    scenarios = List.copyOf(scenarios);
    policies = List.copyOf(policies);
  }

  /** The defaults, as documented in {@link #USAGE}. */
  static SimConfig defaults() {
    return parse(new String[0]);
  }

  /** A copy with another request count. */
  SimConfig withRequests(int n) {
    return copy(n, utilisation);
  }

  /** A copy whose runs offer {@code u} of the nominal capacity. */
  SimConfig withUtilisation(double u) {
    return copy(requests, u);
  }

  private SimConfig copy(int n, double u) {
    return new SimConfig(
        seed,
        clients,
        servers,
        n,
        scenarios,
        policies,
        u,
        utilisations,
        workers,
        serviceTime,
        serviceMeanMillis,
        slowFactor,
        flapPeriodSeconds,
        registryDelayMillis,
        timeoutMillis,
        probeDelayMillis,
        antagonistPeriodSeconds,
        markdown);
  }

  /**
   * Parses command-line flags ({@code --flag value} or {@code --flag=value}).
   *
   * @throws IllegalArgumentException naming the bad flag or value
   */
  static SimConfig parse(String[] args) {
    long seed = 1;
    int clients = 8;
    int servers = 10;
    int requests = 200_000;
    List<Scenario> scenarios = List.of(Scenario.values());
    List<String> policies = SeededPolicies.NAMES;
    List<Double> utilisations = List.of(0.7);
    int workers = 2;
    ServiceTime serviceTime = ServiceTime.EXPONENTIAL;
    double serviceMean = 5;
    double slowFactor = 8;
    double flapPeriod = 2;
    double registryDelay = 100;
    double timeout = 0;
    double probeDelay = 0.5;
    double antagonistPeriod = 1;
    Path markdown = null;
    for (int i = 0; i < args.length; i++) {
      String flag = args[i];
      String value;
      int eq = flag.indexOf('=');
      if (eq > 0 && flag.startsWith("--")) {
        value = flag.substring(eq + 1);
        flag = flag.substring(0, eq);
      } else if (flag.equals("--help") || flag.equals("-h")) {
        throw new HelpRequested();
      } else {
        if (!flag.startsWith("--")) {
          throw new IllegalArgumentException("unexpected argument '" + flag + "'");
        }
        if (i + 1 >= args.length) {
          throw new IllegalArgumentException(flag + " needs a value");
        }
        value = args[++i];
      }
      switch (flag) {
        case "--seed" -> seed = parseLong(flag, value);
        case "--clients" -> clients = parseInt(flag, value);
        case "--servers" -> servers = parseInt(flag, value);
        case "--requests" -> requests = parseInt(flag, value);
        case "--scenario", "--scenarios" -> scenarios = scenarios(value);
        case "--policies", "--policy" -> policies = policies(value);
        case "--utilisation", "--utilization" -> utilisations = doubles(flag, value);
        case "--workers" -> workers = parseInt(flag, value);
        case "--service" -> serviceTime = ServiceTime.of(value);
        case "--service-mean-ms" -> serviceMean = parseDouble(flag, value);
        case "--slow-factor" -> slowFactor = parseDouble(flag, value);
        case "--flap-period-s" -> flapPeriod = parseDouble(flag, value);
        case "--registry-delay-ms" -> registryDelay = parseDouble(flag, value);
        case "--timeout-ms" -> timeout = parseDouble(flag, value);
        case "--probe-delay-ms" -> probeDelay = parseDouble(flag, value);
        case "--antagonist-period-s" -> antagonistPeriod = parseDouble(flag, value);
        case "--markdown" -> markdown = Path.of(value);
        default -> throw new IllegalArgumentException("unknown flag " + flag);
      }
    }
    return new SimConfig(
        seed,
        clients,
        servers,
        requests,
        scenarios,
        policies,
        utilisations.get(0),
        utilisations,
        workers,
        serviceTime,
        serviceMean,
        slowFactor,
        flapPeriod,
        registryDelay,
        timeout,
        probeDelay,
        antagonistPeriod,
        markdown);
  }

  private static List<Scenario> scenarios(String value) {
    if (value.equals("all")) {
      return List.of(Scenario.values());
    }
    List<Scenario> out = new ArrayList<>();
    for (String s : value.split(",", -1)) {
      Scenario scenario = Scenario.of(s.trim());
      if (!out.contains(scenario)) {
        out.add(scenario);
      }
    }
    return out;
  }

  private static List<String> policies(String value) {
    if (value.equals("all")) {
      return SeededPolicies.NAMES;
    }
    List<String> out = new ArrayList<>();
    for (String p : value.split(",", -1)) {
      String name = p.trim();
      if (!SeededPolicies.NAMES.contains(name)) {
        throw new IllegalArgumentException(
            "unknown policy '"
                + name
                + "'; expected all or "
                + String.join(", ", SeededPolicies.NAMES));
      }
      if (!out.contains(name)) {
        out.add(name);
      }
    }
    return out;
  }

  private static List<Double> doubles(String flag, String value) {
    List<Double> out = new ArrayList<>();
    for (String v : value.split(",", -1)) {
      out.add(parseDouble(flag, v.trim()));
    }
    return out;
  }

  private static long parseLong(String flag, String value) {
    try {
      return Long.parseLong(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs an integer but was '" + value + "'");
    }
  }

  private static int parseInt(String flag, String value) {
    try {
      return Integer.parseInt(value.replace("_", ""));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs an integer but was '" + value + "'");
    }
  }

  private static double parseDouble(String flag, String value) {
    try {
      double d = Double.parseDouble(value);
      if (!Double.isFinite(d)) {
        throw new NumberFormatException();
      }
      return d;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(flag + " needs a number but was '" + value + "'");
    }
  }

  private static void require(boolean condition, String message) {
    if (!condition) {
      throw new IllegalArgumentException(message);
    }
  }

  /** Thrown by {@link #parse} for {@code --help}: print the usage and exit normally. */
  static final class HelpRequested extends RuntimeException {
    HelpRequested() {
      super("help requested", null, false, false);
    }
  }
}
