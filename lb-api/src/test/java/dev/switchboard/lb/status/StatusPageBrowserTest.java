package dev.switchboard.lb.status;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;
import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.BalancingPolicy;
import dev.switchboard.lb.Cluster;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Lease;
import dev.switchboard.lb.Outcome;
import dev.switchboard.lb.OutlierDetection;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.StaticRegistry;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import java.awt.image.BufferedImage;
import java.io.File;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The status page in a real browser: a live cluster (one endpoint ejected by outlier detection, one
 * with its breaker open, one draining, one of weight 0) behind a real {@link StatusServer}; the
 * JSON over HTTP, then the HTML rendered by headless Chromium (its DOM after parsing, a screenshot
 * kept as a build artifact in {@code target/status-page/}, and a live page left open to see it
 * reload itself).
 *
 * <p>Needs Chromium on the PATH ({@code chromium}, {@code chromium-browser} or {@code
 * google-chrome}). Without it the test is skipped, or fails when the {@code CI} environment
 * variable is set.
 */
class StatusPageBrowserTest {
  private static final List<String> BROWSERS =
      List.of("chromium", "chromium-browser", "google-chrome");

  /**
   * The flags every run gets; each run also gets a fresh profile. The last group keeps the browser
   * on loopback: even with background networking off, Chromium looks up and calls Google's update
   * and account hosts (seen in a net log). Every host name but 127.0.0.1 now fails to resolve, and
   * every non-loopback request goes to a proxy on a closed loopback port. Left: its IPv6
   * reachability probe connects a UDP socket (no datagram is sent).
   */
  private static final List<String> FLAGS =
      List.of(
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
          "--proxy-server=127.0.0.1:9",
          "--disable-domain-reliability",
          "--disable-breakpad",
          "--no-pings",
          "--disable-client-side-phishing-detection",
          "--disable-default-apps",
          "--no-default-browser-check");

  private static final Duration BROWSER_TIMEOUT = Duration.ofSeconds(30);

  private static final Path ARTIFACTS =
      Path.of(System.getProperty("basedir", "."), "target", "status-page");

  // Member ports; nothing listens on them: calls are leases completed by the test.
  private static final String HEALTHY = "127.0.0.1:9001";
  private static final String EJECTED = "127.0.0.1:9002";
  private static final String BREAKER_OPEN = "127.0.0.1:9003";
  private static final String DRAINING = "127.0.0.1:9004";
  private static final String ZERO_WEIGHT = "127.0.0.1:9005";
  private static final String HEAVY = "127.0.0.1:9006";
  private static final String NO_ZONE = "127.0.0.1:9007";
  private static final String LATENCY = "Latency (peak EWMA)";
  private static final String LATENCY_TEXT = "-|\\d+(\\.\\d+)? (µs|ms|s)";

  private Path browser;

  @TempDir Path temp;

  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  // Per test rather than @BeforeAll, so a skip is reported as one (with its reason).
  @BeforeEach
  void findBrowser() {
    Optional<Path> found = onPath(BROWSERS);
    if (found.isEmpty()) {
      String message =
          "chromium not found on the PATH (looked for " + String.join(", ", BROWSERS) + ")";
      if (System.getenv("CI") != null) {
        fail(message + "; .ci/run installs it with apt (chromium, chromium-driver)");
      }
      Assumptions.abort(
          message
              + "; install it to run this test, e.g. `apt-get install chromium chromium-driver`");
    }
    browser = found.get();
  }

  @Test
  void statusPage_inHeadlessChromium_showsEveryEndpointItsStateAndWhyNotEligible()
      throws Exception {
    StaticRegistry registry =
        StaticRegistry.of(
            member(9001, "zone-a", 100, false),
            member(9002, "zone-a", 50, false),
            member(9003, "zone-b", 200, false),
            member(9004, "zone-b", 100, true),
            member(9005, "zone-c", 0, false),
            member(9006, "zone-c", 300, false),
            member(9007, ServiceInstance.NO_ZONE, 100, false));
    AtomicInteger renders = new AtomicInteger();
    List<Lease> held = new ArrayList<>();
    try (Cluster cluster = cluster(registry)) {
      driveFailures(cluster);
      held.add(acquireOn(cluster, HEALTHY));
      held.add(acquireOn(cluster, HEALTHY));

      ClusterStatus live = ClusterStatus.of(cluster);
      ClusterStatus counted =
          ClusterStatus.ofSnapshots(
              () -> {
                renders.incrementAndGet();
                return live.snapshots();
              });
      try (StatusServer server = StatusServer.start(counted, 0)) {
        assertThat(server.uri().getHost()).isEqualTo("127.0.0.1");
        Files.createDirectories(ARTIFACTS);

        // 1. JSON over HTTP, schema and content.
        String jsonText = get(server.uri().resolve("/status.json"));
        Files.writeString(ARTIFACTS.resolve("status.json"), jsonText);
        List<Map<String, Object>> clusters = ClusterStatusTest.clusters(jsonText);
        ClusterStatusTest.assertSchema(clusters);
        assertThat(clusters).hasSize(1);
        assertThat(clusters.get(0))
            .containsEntry("service", StatusFixture.SERVICE)
            .containsEntry("panic", false)
            .containsEntry("registryDegraded", false)
            .containsEntry("endpointCount", 7.0)
            .containsEntry("eligibleCount", 3.0);
        Map<String, Map<String, Object>> json = new LinkedHashMap<>();
        for (Map<String, Object> e : ClusterStatusTest.endpoints(clusters.get(0))) {
          json.put((String) e.get("address"), e);
        }
        assertThat(json.keySet())
            .containsExactly(HEALTHY, EJECTED, BREAKER_OPEN, DRAINING, ZERO_WEIGHT, HEAVY, NO_ZONE);
        assertThat(json.values())
            .extracting(e -> e.get("eligibility"))
            .containsExactly(
                "ELIGIBLE",
                "EJECTED",
                "CIRCUIT_OPEN",
                "DRAINING",
                "ZERO_WEIGHT",
                "ELIGIBLE",
                "ELIGIBLE");
        assertThat(json.get(HEALTHY)).containsEntry("inFlight", 2.0);
        assertThat(json.get(EJECTED))
            .containsEntry("breakerState", "CLOSED")
            .containsEntry("receivesTraffic", false);
        assertThat((Double) json.get(EJECTED).get("ejectionRemainingMillis"))
            .isBetween(1.0, 60_000.0);
        assertThat(json.get(BREAKER_OPEN))
            .containsEntry("breakerState", "OPEN")
            .containsEntry("ejectionRemainingMillis", 0.0);
        assertThat(json.get(DRAINING)).containsEntry("draining", true);
        assertThat(json.get(ZERO_WEIGHT)).containsEntry("registeredWeight", 0.0);

        // 2. The page as Chromium parsed and painted it: its DOM, and a screenshot kept as a build
        // artifact (one browser run does both).
        Path png = ARTIFACTS.resolve("status.png").toAbsolutePath();
        Files.deleteIfExists(png);
        int rendersBefore = renders.get();
        LocalTime renderedAfter = LocalTime.now(ZoneOffset.UTC);
        String dom =
            chromium(
                    List.of(
                        "--dump-dom",
                        "--screenshot=" + png,
                        "--window-size=1280,900",
                        server.uri().toString()))
                .stdout();
        Files.writeString(ARTIFACTS.resolve("status.dom.html"), dom);
        assertThat(renders.get()).as("page loads served").isGreaterThan(rendersBefore);

        assertThat(dom)
            .contains("<title>Switchboard status</title>")
            .contains(
                "<meta http-equiv=\"refresh\" content=\"" + ClusterStatus.REFRESH_SECONDS + "\">")
            .containsPattern(
                "Rendered \\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d UTC; refreshes every "
                    + ClusterStatus.REFRESH_SECONDS
                    + " s\\.")
            .contains("registry healthy")
            .doesNotContain("PANIC", "REGISTRY DEGRADED");
        assertThat(text(firstMatch(dom, "<h2>(.*?)</h2>")))
            .isEqualTo("echo (round_robin, 3 of 7 eligible)");

        Map<String, Map<String, String>> rows = rows(dom);
        assertThat(rows.keySet()).containsExactlyElementsOf(json.keySet());
        for (Map.Entry<String, Map<String, String>> row : rows.entrySet()) {
          Map<String, Object> e = json.get(row.getKey());
          Map<String, String> cells = row.getValue();
          String zone = (String) e.get("zone");
          assertThat(cells)
              .as(row.getKey())
              .containsEntry("Address", row.getKey())
              .containsEntry("Zone", zone.isEmpty() ? "-" : zone)
              .containsEntry("Effective weight", integer(e.get("effectiveWeight")))
              .containsEntry("Registered weight", integer(e.get("registeredWeight")))
              .containsEntry("In flight", integer(e.get("inFlight")))
              .containsEntry("Breaker", (String) e.get("breakerState"))
              .containsEntry("Calls", integer(e.get("calls")))
              .containsEntry("Failures", integer(e.get("failures")))
              .containsEntry("State", (String) e.get("eligibility"))
              .containsEntry("data-eligibility", (String) e.get("eligibility"))
              .containsEntry("Traffic", (Boolean) e.get("receivesTraffic") ? "yes" : "no")
              .containsEntry("Slow start", "no");
          assertThat(cells.get(LATENCY)).as(row.getKey()).matches(LATENCY_TEXT);
          if (row.getKey().equals(EJECTED)) {
            continue;
          }
          assertThat(cells).as(row.getKey()).containsEntry("Ejected until", "-");
        }
        assertThat(rows.get(HEALTHY)).containsEntry("Why not eligible", "-");
        assertThat(rows.get(HEAVY)).containsEntry("Why not eligible", "-");
        assertThat(rows.get(NO_ZONE)).containsEntry("Zone", "-");
        assertThat(rows.get(BREAKER_OPEN))
            .containsEntry("Why not eligible", "circuit breaker open")
            .containsEntry("class", "endpoint bad");
        assertThat(rows.get(DRAINING))
            .containsEntry("Why not eligible", "draining")
            .containsEntry("class", "endpoint held");
        assertThat(rows.get(ZERO_WEIGHT))
            .containsEntry("Why not eligible", "weight 0")
            .containsEntry("class", "endpoint held");
        assertThat(nanos(rows.get(EJECTED).get(LATENCY)))
            .as("failed calls count as the 1 s failure penalty")
            .isGreaterThan(10 * nanos(rows.get(HEALTHY).get(LATENCY)));

        // The ejected endpoint says why and for how long, and when it comes back.
        Map<String, String> ejected = rows.get(EJECTED);
        assertThat(ejected).containsEntry("class", "endpoint bad");
        Matcher why =
            Pattern.compile("ejected by outlier detection, (\\d+\\.\\d) s left")
                .matcher(ejected.get("Why not eligible"));
        assertThat(why.matches()).as(ejected.get("Why not eligible")).isTrue();
        assertThat(Double.parseDouble(why.group(1))).isBetween(1.0, 60.0);
        assertThat(ejected.get("Ejected until")).matches("\\d\\d:\\d\\d:\\d\\d UTC");
        LocalTime until = LocalTime.parse(ejected.get("Ejected until").substring(0, 8));
        long secondsAhead =
            Math.floorMod(Duration.between(renderedAfter, until).getSeconds(), 86_400L);
        assertThat(secondsAhead).as("ejection ends within a minute").isBetween(1L, 61L);

        // 3. The screenshot: a PNG of the window's size, with the rows painted.
        assertThat(png).exists();
        byte[] bytes = Files.readAllBytes(png);
        assertThat(bytes.length).isGreaterThan(1000);
        assertThat(new String(bytes, 1, 3, StandardCharsets.US_ASCII)).isEqualTo("PNG");
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(1280);
        assertThat(image.getHeight()).isEqualTo(900);
        // The rows were painted: red for health failures, yellow for held back.
        assertThat(countPixels(image, 0xfde2e2)).as("red row pixels").isGreaterThan(1000);
        assertThat(countPixels(image, 0xfff4d6)).as("yellow row pixels").isGreaterThan(1000);

        // 4. Left open, the page reloads itself.
        int loadsBefore = renders.get();
        liveBrowser(
            server.uri(),
            () ->
                await()
                    .atMost(Duration.ofSeconds(4L * ClusterStatus.REFRESH_SECONDS + 5))
                    .untilAsserted(
                        () ->
                            assertThat(renders.get())
                                .as("loads of the page left open")
                                .isGreaterThanOrEqualTo(loadsBefore + 2)));
      } finally {
        for (Lease lease : held) {
          lease.complete(Outcome.SUCCESS);
          lease.close();
        }
      }
    }
  }

  // ---- the cluster ----------------------------------------------------------------------------

  /** {@code 187 µs}, {@code 24.0 ms} or {@code 1.25 s} in nanoseconds. */
  private static double nanos(String latency) {
    String[] number = latency.split(" ");
    double unit =
        switch (number[1]) {
          case "µs" -> 1e3;
          case "ms" -> 1e6;
          case "s" -> 1e9;
          default -> throw new AssertionError("no latency unit in '" + latency + "'");
        };
    return Double.parseDouble(number[0]) * unit;
  }

  private static ServiceInstance member(int port, String zone, int weight, boolean draining) {
    return ServiceInstance.builder(StatusFixture.SERVICE, "127.0.0.1", port)
        .zone(zone)
        .weight(weight)
        .draining(draining)
        .build();
  }

  /**
   * Round robin; ejection after 3 failures in a row for a minute; a breaker that opens when half of
   * the last 10 calls failed and stays open for 10 minutes (so it is still open when the page is
   * read).
   */
  private static Cluster cluster(StaticRegistry registry) {
    return Cluster.builder(StatusFixture.SERVICE)
        .registry(registry)
        .policy(BalancingPolicy.roundRobin())
        .updateDebounce(Duration.ZERO)
        .outlierDetection(new OutlierDetection(3, Duration.ofMinutes(1), Duration.ofMinutes(1), 50))
        .circuitBreaker(
            CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(10)
                .minimumNumberOfCalls(10)
                .failureRateThreshold(50)
                .waitDurationInOpenState(Duration.ofMinutes(10))
                .build())
        .build();
  }

  /**
   * Runs calls through real leases until {@link #EJECTED} is ejected and {@link #BREAKER_OPEN}'s
   * breaker is open. {@link #EJECTED} succeeds 7 times, then always fails: 3 failures in a row
   * eject it while its breaker (3 of 10 failed) stays closed. {@link #BREAKER_OPEN} alternates
   * failure and success: never 3 in a row, but 5 of 10 failed opens its breaker. The others
   * succeed, in a few milliseconds each.
   */
  private static void driveFailures(Cluster cluster) {
    Map<String, AtomicInteger> callsTo = new LinkedHashMap<>();
    for (int i = 0; i < 1000; i++) {
      var snapshot = cluster.snapshot();
      if (snapshot.endpoint(EJECTED).orElseThrow().eligibility() == Eligibility.EJECTED
          && snapshot.endpoint(BREAKER_OPEN).orElseThrow().eligibility()
              == Eligibility.CIRCUIT_OPEN) {
        return;
      }
      try (Lease lease = cluster.acquire()) {
        String address = lease.endpoint().address();
        int n = callsTo.computeIfAbsent(address, a -> new AtomicInteger()).getAndIncrement();
        Outcome outcome =
            switch (address) {
              case EJECTED -> n < 7 ? Outcome.SUCCESS : Outcome.TRANSPORT_FAILURE;
              case BREAKER_OPEN -> n % 2 == 0 ? Outcome.TRANSPORT_FAILURE : Outcome.SUCCESS;
              default -> Outcome.SUCCESS;
            };
        long latencyMillis = 2 + lease.endpoint().instance().port() % 10;
        lease.complete(outcome, TimeUnit.MILLISECONDS.toNanos(latencyMillis));
      }
    }
    throw new AssertionError("endpoints did not reach their states: " + cluster.snapshot());
  }

  /** A lease on {@code address}, left open; calls that land elsewhere succeed at once. */
  private static Lease acquireOn(Cluster cluster, String address) {
    for (int i = 0; i < 100; i++) {
      Lease lease = cluster.acquire();
      if (lease.endpoint().address().equals(address)) {
        return lease;
      }
      lease.complete(Outcome.SUCCESS);
      lease.close();
    }
    throw new AssertionError("no lease landed on " + address + ": " + cluster.snapshot());
  }

  private String get(URI uri) throws IOException, InterruptedException {
    HttpResponse<String> response =
        http.send(
            HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(uri.toString()).isEqualTo(200);
    return response.body();
  }

  // ---- the rendered DOM -----------------------------------------------------------------------

  private static final Pattern HEADER = Pattern.compile("<th>(.*?)</th>", Pattern.DOTALL);
  private static final Pattern ROW = Pattern.compile("<tr ([^>]*)>(.*?)</tr>", Pattern.DOTALL);
  private static final Pattern CELL = Pattern.compile("<td[^>]*>(.*?)</td>", Pattern.DOTALL);
  private static final Pattern ATTRIBUTE = Pattern.compile("([a-z-]+)=\"([^\"]*)\"");

  /**
   * The endpoint rows of Chromium's serialized DOM, by address: each row's cells by column header,
   * plus its {@code class} and {@code data-*} attributes.
   */
  private static Map<String, Map<String, String>> rows(String dom) {
    List<String> headers = new ArrayList<>();
    for (Matcher m = HEADER.matcher(dom); m.find(); ) {
      headers.add(text(m.group(1)));
    }
    Map<String, Map<String, String>> rows = new LinkedHashMap<>();
    for (Matcher row = ROW.matcher(dom); row.find(); ) {
      Map<String, String> cells = new LinkedHashMap<>();
      for (Matcher a = ATTRIBUTE.matcher(row.group(1)); a.find(); ) {
        cells.put(a.group(1), text(a.group(2)));
      }
      if (!cells.getOrDefault("class", "").startsWith("endpoint")) {
        continue;
      }
      List<String> texts = new ArrayList<>();
      for (Matcher c = CELL.matcher(row.group(2)); c.find(); ) {
        texts.add(text(c.group(1)));
      }
      assertThat(texts).as("cells of " + row.group()).hasSameSizeAs(headers);
      for (int i = 0; i < texts.size(); i++) {
        cells.put(headers.get(i), texts.get(i));
      }
      assertThat(rows.put(cells.get("data-address"), cells)).as("duplicate row").isNull();
    }
    return rows;
  }

  private static String firstMatch(String s, String regex) {
    Matcher m = Pattern.compile(regex, Pattern.DOTALL).matcher(s);
    assertThat(m.find()).as(regex + " in the page").isTrue();
    return m.group(1);
  }

  /** The text of an HTML fragment: tags dropped, entities Chromium writes decoded, trimmed. */
  private static String text(String html) {
    return html.replaceAll("<[^>]*>", "")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
        .trim();
  }

  private static String integer(Object jsonNumber) {
    double d = (Double) jsonNumber;
    assertThat(d).isEqualTo(Math.rint(d));
    return String.valueOf((long) d);
  }

  private static long countPixels(BufferedImage image, int rgb) {
    long n = 0;
    for (int y = 0; y < image.getHeight(); y++) {
      for (int x = 0; x < image.getWidth(); x++) {
        if ((image.getRGB(x, y) & 0xffffff) == rgb) {
          n++;
        }
      }
    }
    return n;
  }

  // ---- the browser ----------------------------------------------------------------------------

  private record Run(int exitCode, String stdout, String stderr) {}

  private static Optional<Path> onPath(List<String> names) {
    String path = System.getenv("PATH");
    if (path == null) {
      return Optional.empty();
    }
    for (String name : names) {
      for (String dir : path.split(File.pathSeparator)) {
        if (dir.isEmpty()) {
          continue;
        }
        Path candidate = Path.of(dir, name);
        if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
          return Optional.of(candidate);
        }
      }
    }
    return Optional.empty();
  }

  /** A browser command line with a fresh profile directory. */
  private List<String> command(List<String> args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(browser.toString());
    command.addAll(FLAGS);
    command.add("--user-data-dir=" + Files.createTempDirectory(temp, "profile"));
    command.addAll(args);
    return command;
  }

  private ProcessBuilder processBuilder(List<String> args, Path stdout, Path stderr)
      throws IOException {
    // Output goes to files, so a chatty browser can never block on a full pipe.
    return new ProcessBuilder(command(args))
        .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
        .redirectOutput(stdout.toFile())
        .redirectError(stderr.toFile());
  }

  /** Runs the browser to completion (bounded by a timeout); fails unless it exits with 0. */
  private Run chromium(List<String> args) throws IOException, InterruptedException {
    Path stdout = Files.createTempFile(temp, "stdout", ".txt");
    Path stderr = Files.createTempFile(temp, "stderr", ".txt");
    Process process = processBuilder(args, stdout, stderr).start();
    boolean exited = process.waitFor(BROWSER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
    if (!exited) {
      killTree(process);
    }
    Run run =
        new Run(
            exited ? process.exitValue() : -1,
            Files.readString(stdout, StandardCharsets.UTF_8),
            Files.readString(stderr, StandardCharsets.UTF_8));
    if (!exited || run.exitCode() != 0) {
      fail(
          (exited ? "browser exited with " + run.exitCode() : "browser timed out")
              + " running "
              + args
              + "\nstderr:\n"
              + run.stderr());
    }
    return run;
  }

  /** Opens {@code uri} in a browser that stays up while {@code whileOpen} runs, then ends it. */
  private void liveBrowser(URI uri, Runnable whileOpen) throws IOException, InterruptedException {
    Path stdout = Files.createTempFile(temp, "stdout", ".txt");
    Path stderr = Files.createTempFile(temp, "stderr", ".txt");
    Process process = processBuilder(List.of(uri.toString()), stdout, stderr).start();
    try {
      whileOpen.run();
      assertThat(process.isAlive())
          .as("browser still running; stderr:\n%s", Files.readString(stderr))
          .isTrue();
    } finally {
      killTree(process);
    }
  }

  /**
   * Ends the browser and every process it started, forcibly: the Debian launcher is a shell script
   * that runs the real browser as a child, headless Chromium here ignores SIGTERM, and its zygote
   * dies before its renderers, which then leave the tree. So the tree is listed first, then killed
   * at once; each wait is bounded.
   */
  private static void killTree(Process process) throws InterruptedException {
    List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
    tree.add(process.toHandle());
    tree.forEach(ProcessHandle::destroyForcibly);
    if (!process.waitFor(10, TimeUnit.SECONDS)) {
      fail("browser launcher " + process.pid() + " did not end");
    }
    for (ProcessHandle p : tree) {
      try {
        p.onExit().get(10, TimeUnit.SECONDS);
      } catch (TimeoutException | ExecutionException e) {
        fail("browser process " + p.pid() + " did not end");
      }
    }
  }
}
