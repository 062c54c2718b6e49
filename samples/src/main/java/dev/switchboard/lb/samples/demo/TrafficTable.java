package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

/**
 * Renders the once-a-second table: per server the calls per second the client sent it, calls in
 * flight, the latency estimate peak EWMA ranks by ({@code 187 µs}, {@code 24.0 ms}), breaker state,
 * weight (scaled by slow start) and whether it takes traffic, with totals on top. Servers that left
 * stay listed, so the story of a run reads top to bottom. Not thread-safe: one thread renders at a
 * time.
 */
final class TrafficTable {
  private static final String ROW = "  %-4s %-16s %8s %9s %8s  %-9s %6s  %s%n";

  /** What the table knows about the server behind an address. */
  record Server(String name, ServerProcess.Fate fate) {}

  private final Function<String, Optional<Server>> servers;
  private final Map<String, Row> rows = new LinkedHashMap<>();
  private long lastNanos;
  private long lastTotal;
  private long endpointFailures;
  private final Set<String> seenInSlowStart = new HashSet<>();

  private static final class Row {
    long calls;
    long failures;
  }

  TrafficTable(Function<String, Optional<Server>> servers, long startNanos) {
    this.servers = servers;
    this.lastNanos = startNanos;
  }

  /**
   * One block of the table. {@code elapsedNanos} is since traffic started; {@code total} and {@code
   * failed} are the callers' counts of calls.
   */
  String render(
      ClusterSnapshot snapshot, long nowNanos, long elapsedNanos, long total, long failed) {
    double seconds = Math.max(1e-3, (nowNanos - lastNanos) / 1e9);
    lastNanos = nowNanos;
    long rate = Math.round((total - lastTotal) / seconds);
    lastTotal = total;

    StringBuilder out = new StringBuilder();
    Map<String, String> lines = new LinkedHashMap<>();
    for (EndpointSnapshot e : snapshot.endpoints()) {
      Row row = rows.computeIfAbsent(e.address(), a -> new Row());
      long callsPerSecond = Math.round(Math.max(0, e.calls() - row.calls) / seconds);
      row.calls = e.calls();
      row.failures = e.failures();
      String state = state(e);
      if (e.inSlowStart()) {
        seenInSlowStart.add(e.address());
      }
      lines.put(
          e.address(),
          String.format(
              Locale.ROOT,
              ROW,
              name(e.address()),
              e.address(),
              String.format(Locale.ROOT, "%,d", callsPerSecond),
              e.inFlight(),
              e.latencyText(),
              breaker(e.breakerState()),
              e.effectiveWeight(),
              fatePrefix(e.address()) + state));
    }
    endpointFailures = rows.values().stream().mapToLong(r -> r.failures).sum();
    out.append(
        String.format(
            Locale.ROOT,
            "%n+%4.1fs  %,7d calls/s   total %,d   failed calls %d   endpoint failures %,d%s%n",
            elapsedNanos / 1e9,
            rate,
            total,
            failed,
            endpointFailures,
            snapshot.panic() ? "   PANIC: health ignored" : ""));
    out.append(
        String.format(
            Locale.ROOT,
            ROW,
            "srv",
            "address",
            "calls/s",
            "in-flight",
            "ewma",
            "breaker",
            "weight",
            "state"));
    List<String> addresses = new ArrayList<>(rows.keySet());
    addresses.sort(Comparator.comparing(this::name).thenComparing(Comparator.naturalOrder()));
    for (String address : addresses) {
      String line = lines.get(address);
      if (line == null) {
        line =
            String.format(
                Locale.ROOT,
                ROW,
                name(address),
                address,
                "-",
                "-",
                "-",
                "-",
                "-",
                fatePrefix(address) + "left the cluster");
      }
      out.append(line);
    }
    return out.toString();
  }

  private String name(String address) {
    return servers.apply(address).map(Server::name).orElse("?");
  }

  private String fatePrefix(String address) {
    return servers
        .apply(address)
        .map(Server::fate)
        .filter(f -> f == ServerProcess.Fate.KILLED || f == ServerProcess.Fate.EXITED)
        .map(f -> f.label + ", ")
        .orElse("");
  }

  private static String state(EndpointSnapshot e) {
    Eligibility why = e.eligibility();
    String state =
        switch (why) {
          case ELIGIBLE -> e.receivesTraffic() ? "eligible" : "eligible (held back)";
          case EJECTED ->
              "ejected, "
                  + Math.max(1, (e.ejectionRemaining().toMillis() + 999) / 1000)
                  + " s left";
          default -> why.description();
        };
    if (why != Eligibility.ELIGIBLE && e.receivesTraffic()) {
      state += " (panic: used anyway)";
    }
    if (e.inSlowStart()) {
      int weight = Math.max(1, e.instance().weight());
      state += ", slow start " + (100 * e.effectiveWeight() / weight) + "% weight";
    }
    return state;
  }

  private static String breaker(CircuitBreaker.State state) {
    return state.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** Failed attempts the client recorded on any endpoint (retried elsewhere when safe). */
  long endpointFailures() {
    return endpointFailures;
  }

  /** Whether {@code address} was seen ramping up in slow start. */
  boolean sawSlowStart(String address) {
    return seenInSlowStart.contains(address);
  }
}
