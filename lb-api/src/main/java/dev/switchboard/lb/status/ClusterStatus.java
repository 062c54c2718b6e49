package dev.switchboard.lb.status;

import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.ClusterSnapshot;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.EndpointSnapshot;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * Renders clusters' {@link ClusterSnapshot}s for operators: as JSON ({@link #json()}) and as a
 * small self-contained HTML page that refreshes itself ({@link #html()}). Each call takes fresh
 * snapshots.
 *
 * <p>The JSON document is {@code {"clusters": [cluster...]}}; each cluster has {@code service},
 * {@code policy}, {@code registryDegraded}, {@code registryProblem} (string or null), {@code
 * registryAgeMillis} (since the registry last delivered or confirmed the members), {@code panic},
 * {@code endpointCount}, {@code eligibleCount} and {@code endpoints}; each endpoint has {@code id},
 * {@code address}, {@code zone}, {@code registeredWeight}, {@code effectiveWeight}, {@code
 * inFlight}, {@code ewmaMillis} (the latency estimate in milliseconds, to the microsecond), {@code
 * breakerState}, {@code ejectionRemainingMillis}, {@code calls}, {@code failures}, {@code
 * eligibility} (the {@link dev.switchboard.lb.Eligibility} name), {@code eligibilityDescription},
 * {@code receivesTraffic}, {@code inSlowStart} and {@code draining}.
 *
 * <p>The HTML page has a table per cluster and a row per endpoint: address, zone, effective and
 * registered weight, calls in flight, the latency estimate in a unit that fits ({@link
 * EndpointSnapshot#latencyText()}: {@code 187 µs}, {@code 24.0 ms}), breaker state, when an
 * ejection ends (UTC), calls, failures, the {@link dev.switchboard.lb.Eligibility} name and, for an
 * endpoint that is not eligible, why (an ejected one with the time left). It reloads itself every
 * {@link #REFRESH_SECONDS} seconds and loads nothing else: no scripts, no external styles or
 * images.
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
    field(b, "registryAgeMillis").append(s.registryAge().toMillis()).append(',');
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
  //
  // One table per cluster, one row per endpoint. Rows carry data-address and data-eligibility
  // attributes so tools (and the browser test) can find them without reading the cell text. Red
  // rows are health failures (ejected, breaker open, failing health check); yellow rows are held
  // back for other reasons (draining, weight 0, another zone, saturated). The page has no scripts
  // and loads nothing else: inline CSS, a meta refresh, and one relative link to the JSON.

  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);
  private static final DateTimeFormatter DATE_CLOCK =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss", Locale.ROOT).withZone(ZoneOffset.UTC);

  private static final List<String> COLUMNS =
      List.of(
          "Address",
          "Zone",
          "Effective weight",
          "Registered weight",
          "In flight",
          "Latency (peak EWMA)",
          "Breaker",
          "Ejected until",
          "Calls",
          "Failures",
          "State",
          "Why not eligible",
          "Traffic",
          "Slow start");

  private static final String STYLE =
      "body{font:14px system-ui,sans-serif;margin:1em;color:#222}"
          + "table{border-collapse:collapse;margin-bottom:1.5em}"
          + "th,td{border:1px solid #ccc;padding:2px 6px;text-align:left}"
          + "th{background:#eee}td{white-space:nowrap}td.n{text-align:right}"
          + "td.why{white-space:normal;min-width:11em}"
          + "tr.bad td{background:#fde2e2}tr.held td{background:#fff4d6}"
          + ".meta{color:#666}"
          + ".flag{display:inline-block;padding:1px 6px;margin-right:6px;border-radius:3px;"
          + "background:#c62828;color:#fff}.ok{background:#2e7d32}";

  /**
   * {@code snapshots} as a self-contained HTML page (inline CSS, no scripts, meta refresh every
   * {@link #REFRESH_SECONDS} seconds), rendered now: ejection end times are shown as UTC clock
   * times from the current wall clock.
   */
  public static String toHtml(List<ClusterSnapshot> snapshots) {
    return toHtml(snapshots, Instant.now());
  }

  /** {@code snapshots} as an HTML page, as if rendered at {@code now}. */
  static String toHtml(List<ClusterSnapshot> snapshots, Instant now) {
    StringBuilder b = new StringBuilder(1024 + 1024 * snapshots.size());
    b.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">")
        .append("<meta http-equiv=\"refresh\" content=\"")
        .append(REFRESH_SECONDS)
        .append("\"><title>Switchboard status</title><style>")
        .append(STYLE)
        .append("</style></head><body><h1>Switchboard status</h1>\n<p class=\"meta\">Rendered ")
        .append(DATE_CLOCK.format(now))
        .append(" UTC; refreshes every ")
        .append(REFRESH_SECONDS)
        .append(" s.</p>\n");
    if (snapshots.isEmpty()) {
      b.append("<p>No clusters.</p>\n");
    }
    for (ClusterSnapshot s : snapshots) {
      htmlCluster(b, s, now);
    }
    return b.append("<p><a href=\"status.json\">status.json</a></p></body></html>\n").toString();
  }

  private static void htmlCluster(StringBuilder b, ClusterSnapshot s, Instant now) {
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
        .append(" <span class=\"registry-age\">last registry update ")
        .append(String.format(Locale.ROOT, "%.1f", s.registryAge().toMillis() / 1000.0))
        .append(" s ago</span>")
        .append("</p>\n<table><thead><tr>");
    for (String h : COLUMNS) {
      b.append("<th>").append(h).append("</th>");
    }
    b.append("</tr></thead><tbody>\n");
    for (EndpointSnapshot e : s.endpoints()) {
      b.append("<tr class=\"endpoint ")
          .append(rowClass(e))
          .append("\" data-address=\"")
          .append(escape(e.address()))
          .append("\" data-eligibility=\"")
          .append(e.eligibility().name())
          .append("\">");
      cell(b, e.address(), false);
      cell(b, e.zone().isEmpty() ? "-" : e.zone(), false);
      cell(b, String.valueOf(e.effectiveWeight()), true);
      cell(b, String.valueOf(e.instance().weight()), true);
      cell(b, String.valueOf(e.inFlight()), true);
      cell(b, e.latencyText(), true);
      cell(b, e.breakerState().name(), false);
      cell(
          b,
          e.ejectionRemaining().isZero()
              ? "-"
              : CLOCK.format(now.plus(e.ejectionRemaining())) + " UTC",
          false);
      cell(b, String.valueOf(e.calls()), true);
      cell(b, String.valueOf(e.failures()), true);
      cell(b, e.eligibility().name(), false);
      b.append("<td class=\"why\">").append(escape(whyNotEligible(e))).append("</td>");
      cell(b, e.receivesTraffic() ? "yes" : "no", false);
      cell(b, e.inSlowStart() ? "yes" : "no", false);
      b.append("</tr>\n");
    }
    b.append("</tbody></table></section>\n");
  }

  private static String rowClass(EndpointSnapshot e) {
    return switch (e.eligibility()) {
      case ELIGIBLE -> "";
      case CIRCUIT_OPEN, EJECTED, FAILING_HEALTH_CHECK -> "bad";
      default -> "held";
    };
  }

  /** The reason an endpoint takes no calls, for people: "-" if it is eligible. */
  static String whyNotEligible(EndpointSnapshot e) {
    String why =
        switch (e.eligibility()) {
          case ELIGIBLE -> "-";
          case EJECTED ->
              "ejected by outlier detection, " + seconds(e.ejectionRemaining()) + " left";
          default -> e.eligibility().description();
        };
    if (e.eligibility() != Eligibility.ELIGIBLE && e.receivesTraffic()) {
      why += " (still takes calls: panic mode)";
    }
    return why;
  }

  private static String seconds(Duration d) {
    return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
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
