package dev.switchboard.lb.status;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Renders clusters' {@link ClusterSnapshot}s for operators: as JSON ({@link #json()}) and as a
 * small self-contained HTML page that refreshes itself ({@link #html()}). Each call takes fresh
 * snapshots.
 *
 * <p>The JSON document is {@code {"clusters": [cluster...]}}; each cluster has {@code service},
 * {@code policy}, {@code registryDegraded}, {@code registryProblem} (string or null), {@code
 * panic}, {@code endpointCount}, {@code eligibleCount} and {@code endpoints}; each endpoint has
 * {@code id}, {@code address}, {@code zone}, {@code registeredWeight}, {@code effectiveWeight},
 * {@code inFlight}, {@code ewmaMillis}, {@code breakerState}, {@code ejectionRemainingMillis},
 * {@code calls}, {@code failures}, {@code eligibility} (the {@link dev.switchboard.lb.Eligibility}
 * name), {@code eligibilityDescription}, {@code receivesTraffic}, {@code inSlowStart} and {@code
 * draining}.
 *
 * <p>Thread-safe.
 */
public final class ClusterStatus {
  /** How often the HTML page reloads itself, in seconds. */
  public static final int REFRESH_SECONDS = 2;

  private final Supplier<List<ClusterSnapshot>> snapshots;

  private ClusterStatus(Supplier<List<ClusterSnapshot>> snapshots) {
    this.snapshots = snapshots;
  }

  /** A status of {@code clusters}, in the order given. */
  public static ClusterStatus of(Cluster... clusters) {
    return of(List.of(clusters));
  }

  /** A status of {@code clusters}, in the order given. */
  public static ClusterStatus of(List<Cluster> clusters) {
    List<Cluster> copy = List.copyOf(clusters);
    return new ClusterStatus(
        () -> {
          List<ClusterSnapshot> list = new ArrayList<>(copy.size());
          for (Cluster c : copy) {
            list.add(c.snapshot());
          }
          return list;
        });
  }

  /**
   * A status of whatever snapshots {@code source} returns on each call (for clusters that come and
   * go); the supplier must be thread-safe.
   */
  public static ClusterStatus ofSnapshots(Supplier<List<ClusterSnapshot>> source) {
    return new ClusterStatus(Objects.requireNonNull(source, "source"));
  }

  /** Fresh snapshots of every cluster. */
  public List<ClusterSnapshot> snapshots() {
    return List.copyOf(snapshots.get());
  }

  /** Fresh snapshots as a JSON document. */
  public String json() {
    return toJson(snapshots());
  }

  /** Fresh snapshots as an HTML page. */
  public String html() {
    return toHtml(snapshots());
  }

  /** {@code snapshots} as the JSON document described on this class. */
  public static String toJson(List<ClusterSnapshot> snapshots) {
    StringBuilder b = new StringBuilder(256 + 512 * snapshots.size());
    b.append("{\"clusters\":[");
    for (int i = 0; i < snapshots.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      cluster(b, snapshots.get(i));
    }
    return b.append("]}").toString();
  }

  private static void cluster(StringBuilder b, ClusterSnapshot s) {
    b.append('{');
    field(b, "service").append(quote(s.service())).append(',');
    field(b, "policy").append(quote(s.policy())).append(',');
    field(b, "registryDegraded").append(s.registryDegraded()).append(',');
    field(b, "registryProblem")
        .append(s.registryProblem().map(ClusterStatus::quote).orElse("null"))
        .append(',');
    field(b, "panic").append(s.panic()).append(',');
    field(b, "endpointCount").append(s.endpoints().size()).append(',');
    field(b, "eligibleCount").append(s.eligibleCount()).append(',');
    field(b, "endpoints").append('[');
    List<EndpointSnapshot> endpoints = s.endpoints();
    for (int i = 0; i < endpoints.size(); i++) {
      if (i > 0) {
        b.append(',');
      }
      endpoint(b, endpoints.get(i));
    }
    b.append("]}");
  }

  private static void endpoint(StringBuilder b, EndpointSnapshot e) {
    b.append('{');
    field(b, "id").append(quote(e.instance().id())).append(',');
    field(b, "address").append(quote(e.address())).append(',');
    field(b, "zone").append(quote(e.zone())).append(',');
    field(b, "registeredWeight").append(e.instance().weight()).append(',');
    field(b, "effectiveWeight").append(e.effectiveWeight()).append(',');
    field(b, "inFlight").append(e.inFlight()).append(',');
    field(b, "ewmaMillis").append(number(e.latencyMillis())).append(',');
    field(b, "breakerState").append(quote(e.breakerState().name())).append(',');
    field(b, "ejectionRemainingMillis").append(e.ejectionRemaining().toMillis()).append(',');
    field(b, "calls").append(e.calls()).append(',');
    field(b, "failures").append(e.failures()).append(',');
    field(b, "eligibility").append(quote(e.eligibility().name())).append(',');
    field(b, "eligibilityDescription").append(quote(e.eligibility().description())).append(',');
    field(b, "receivesTraffic").append(e.receivesTraffic()).append(',');
    field(b, "inSlowStart").append(e.inSlowStart()).append(',');
    field(b, "draining").append(e.instance().draining());
    b.append('}');
  }

  private static StringBuilder field(StringBuilder b, String name) {
    return b.append('"').append(name).append("\":");
  }

  private static String number(double d) {
    return Double.isFinite(d) ? String.valueOf(Math.round(d * 1000) / 1000.0) : "null";
  }

  /** {@code s} as a JSON string literal (RFC 8259 escapes; also escapes {@code <>&}). */
  static String quote(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> b.append("\\\"");
        case '\\' -> b.append("\\\\");
        case '\n' -> b.append("\\n");
        case '\r' -> b.append("\\r");
        case '\t' -> b.append("\\t");
        case '\b' -> b.append("\\b");
        case '\f' -> b.append("\\f");
        default -> {
          // Control characters must be escaped; <, > and & too, so the JSON is safe inside HTML,
          // and U+2028/2029 for JavaScript parsers older than ES2019.
          if (c < 0x20 || c == '<' || c == '>' || c == '&' || c == '\u2028' || c == '\u2029') {
            b.append(String.format("\\u%04x", (int) c));
          } else {
            b.append(c);
          }
        }
      }
    }
    return b.append('"').toString();
  }

  // ---- HTML ---------------------------------------------------------------------------------

  private static final String STYLE =
      "body{font:14px system-ui,sans-serif;margin:1em;color:#222}"
          + "table{border-collapse:collapse;margin-bottom:1.5em}"
          + "th,td{border:1px solid #ccc;padding:2px 8px;text-align:left}"
          + "th{background:#eee}td.n{text-align:right}"
          + "tr.bad td{background:#fde2e2}tr.held td{background:#fff4d6}"
          + ".flag{display:inline-block;padding:1px 6px;margin-right:6px;border-radius:3px;"
          + "background:#c62828;color:#fff}.ok{background:#2e7d32}";

  /** {@code snapshots} as a self-contained HTML page (inline CSS, no scripts, meta refresh). */
  public static String toHtml(List<ClusterSnapshot> snapshots) {
    StringBuilder b = new StringBuilder(1024 + 1024 * snapshots.size());
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"refresh\" content=\"")
        .append(REFRESH_SECONDS)
        .append("\"><title>Switchboard status</title><style>")
        .append(STYLE)
        .append("</style></head><body><h1>Switchboard status</h1>\n");
    if (snapshots.isEmpty()) {
      b.append("<p>No clusters.</p>\n");
    }
    for (ClusterSnapshot s : snapshots) {
      htmlCluster(b, s);
    }
    return b.append("<p><a href=\"status.json\">status.json</a></p></body></html>\n").toString();
  }

  private static void htmlCluster(StringBuilder b, ClusterSnapshot s) {
    b.append("<section class=\"cluster\" data-service=\"")
        .append(escape(s.service()))
        .append("\"><h2>")
        .append(escape(s.service()))
        .append(" <small>(")
        .append(escape(s.policy()))
        .append(", ")
        .append(s.eligibleCount())
        .append(" of ")
        .append(s.endpoints().size())
        .append(" eligible)</small></h2><p>");
    b.append(s.panic() ? "<span class=\"flag\">PANIC</span>" : "")
        .append(
            s.registryDegraded()
                ? "<span class=\"flag\">REGISTRY DEGRADED</span>"
                    + escape(s.registryProblem().orElse(""))
                : "<span class=\"flag ok\">registry healthy</span>")
        .append("</p>\n<table><thead><tr>");
    for (String h :
        List.of(
            "Address",
            "Zone",
            "Effective weight",
            "In flight",
            "EWMA ms",
            "Breaker",
            "Ejected for",
            "Calls",
            "Failures",
            "Eligibility",
            "Traffic",
            "Slow start")) {
      b.append("<th>").append(h).append("</th>");
    }
    b.append("</tr></thead><tbody>\n");
    for (EndpointSnapshot e : s.endpoints()) {
      String rowClass =
          !e.receivesTraffic() ? "bad" : e.eligibility() == Eligibility.ELIGIBLE ? "" : "held";
      b.append("<tr class=\"endpoint ")
          .append(rowClass)
          .append("\" data-address=\"")
          .append(escape(e.address()))
          .append("\">");
      cell(b, e.address(), false);
      cell(b, e.zone().isEmpty() ? "-" : e.zone(), false);
      cell(b, String.valueOf(e.effectiveWeight()), true);
      cell(b, String.valueOf(e.inFlight()), true);
      cell(b, String.format(java.util.Locale.ROOT, "%.1f", e.latencyMillis()), true);
      cell(b, e.breakerState().name(), false);
      cell(
          b, e.ejectionRemaining().isZero() ? "-" : e.ejectionRemaining().toMillis() + " ms", true);
      cell(b, String.valueOf(e.calls()), true);
      cell(b, String.valueOf(e.failures()), true);
      cell(b, e.eligibility().name() + ": " + e.eligibility().description(), false);
      cell(b, e.receivesTraffic() ? "yes" : "no", false);
      cell(b, e.inSlowStart() ? "yes" : "no", false);
      b.append("</tr>\n");
    }
    b.append("</tbody></table></section>\n");
  }

  private static void cell(StringBuilder b, String text, boolean numeric) {
    b.append(numeric ? "<td class=\"n\">" : "<td>").append(escape(text)).append("</td>");
  }

  /** {@code s} escaped for HTML text and double-quoted attribute values. */
  static String escape(String s) {
    StringBuilder b = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '&' -> b.append("&amp;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> b.append(c);
      }
    }
    return b.toString();
  }
}
