package dev.switchboard.lb.consul.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * An in-process stand-in for a Consul agent's HTTP API, on the JDK's {@code HttpServer} bound to
 * 127.0.0.1, in the spirit of OkHttp's MockWebServer: start one per test (or per class), point a
 * client at {@link #uri()}, inject faults, inspect what arrived.
 *
 * <p>It follows Consul's documented API for what service registration and discovery use:
 *
 * <ul>
 *   <li>{@code PUT /v1/agent/service/register} (TTL, HTTP, TCP and gRPC checks; only TTL checks
 *       change by themselves), {@code PUT /v1/agent/service/deregister/{id}};
 *   <li>{@code PUT /v1/agent/check/pass|warn|fail/{id}?note=}, {@code PUT
 *       /v1/agent/check/update/{id}}; {@code GET /v1/agent/services}, {@code GET /v1/agent/checks};
 *   <li>{@code GET /v1/health/service/{name}?passing&index=&wait=&dc=} with blocking queries and
 *       {@code X-Consul-Index}, {@code X-Consul-KnownLeader}, {@code X-Consul-LastContact};
 *   <li>{@code PUT /v1/catalog/register} and {@code /v1/catalog/deregister} for services on other
 *       nodes (as Spring Cloud, ESM or an operator would add them); {@code GET /v1/status/leader}.
 * </ul>
 *
 * <p>See {@code StandInState} for the behaviour copied from Consul (check status on
 * re-registration, 404s, TTL expiry, DeregisterCriticalServiceAfter, index rules). Fault hooks:
 * {@link #failRequests}, {@link #delayResponses}, {@link #rewindIndex}, {@link #reportIndexZero},
 * {@link #healthBody}, {@link #addRawEntry}, {@link #restart}, {@link #stop}/{@link #resume}.
 *
 * <p>Sets the system property {@code sun.net.httpserver.nodelay} to {@code true} unless already set
 * (Consul answers without Nagle delays; the JDK server does so only with it).
 *
 * <p>Thread-safe.
 */
public final class ConsulStandIn implements AutoCloseable {
  private static final AtomicInteger IDS = new AtomicInteger();

  static {
    // Consul's Go server sets TCP_NODELAY; the JDK's HttpServer does not unless told (read once,
    // when the first server starts). Without it, Nagle's algorithm and delayed ACKs add ~40 ms
    // to answers and the stand-in is slower than the real thing.
    if (System.getProperty("sun.net.httpserver.nodelay") == null) {
      System.setProperty("sun.net.httpserver.nodelay", "true");
    }
  }

  private final ObjectMapper mapper = new ObjectMapper();
  private final Builder config;
  private final ScheduledExecutorService timers;
  private final ExecutorService handlers;
  private final StandInState state;
  private final List<RecordedRequest> requests = new CopyOnWriteArrayList<>();
  private final Object delays = new Object();
  private final int port;
  private volatile @Nullable HttpServer server;
  private volatile int generation;

  // Faults.
  private volatile @Nullable Predicate<RecordedRequest> failing;
  private volatile int failStatus;
  private final AtomicInteger failNext = new AtomicInteger();
  private volatile long delayNanos;
  private volatile boolean indexZero;
  private volatile @Nullable String healthBody;

  private ConsulStandIn(Builder config) {
    this.config = config;
    int id = IDS.incrementAndGet();
    this.timers =
        Executors.newSingleThreadScheduledExecutor(
            r -> daemon(r, "consul-stand-in-" + id + "-timers"));
    AtomicInteger handlerIds = new AtomicInteger();
    this.handlers =
        Executors.newCachedThreadPool(
            r -> daemon(r, "consul-stand-in-" + id + "-http-" + handlerIds.incrementAndGet()));
    this.state =
        new StandInState(
            timers, config.nodeName, "127.0.0.1", config.datacenter, config.deregisterMinimum);
    HttpServer bound = bind(config.port);
    this.port = bound.getAddress().getPort();
    this.server = bound;
  }

  /** Starts a plain-HTTP stand-in on 127.0.0.1 on a free port, with Consul's defaults. */
  public static ConsulStandIn start() {
    return builder().start();
  }

  /** Configures a stand-in. */
  public static Builder builder() {
    return new Builder();
  }

  /** The agent's base URI, for example {@code http://127.0.0.1:40123}. */
  public URI uri() {
    return URI.create((config.sslContext == null ? "http" : "https") + "://127.0.0.1:" + port);
  }

  /** The port, kept across {@link #stop()} and {@link #resume()}. */
  public int port() {
    return port;
  }

  // ---- operator actions and inspection ----

  /** The status of check {@code checkId} on the agent's node, if it exists. */
  public Optional<String> checkStatus(String checkId) {
    return state.checkStatus(checkId);
  }

  /** The agent's service {@code id}, if registered. */
  public Optional<RegisteredService> service(String id) {
    return state.service(id);
  }

  /** The IDs of the services registered with the agent. */
  public List<String> serviceIds() {
    return state.serviceIds();
  }

  /**
   * Sets a check's status as its runner would ({@code passing}, {@code warning} or {@code
   * critical}); for TTL checks prefer letting the TTL run out.
   */
  public void setCheckStatus(String checkId, String status) {
    state.setStatus(checkId, status, "set by the stand-in");
  }

  /** The current raft index. */
  public long index() {
    return state.index();
  }

  /** Every request received, in order of arrival. */
  public List<RecordedRequest> requests() {
    return List.copyOf(requests);
  }

  /** How many requests with {@code method} arrived for paths starting with {@code pathPrefix}. */
  public long requestCount(String method, String pathPrefix) {
    return requests.stream()
        .filter(r -> r.method().equals(method) && r.path().startsWith(pathPrefix))
        .count();
  }

  /** Forgets the recorded requests. */
  public void clearRequests() {
    requests.clear();
  }

  // ---- faults ----

  /**
   * Answers every request matching {@code which} with {@code status}, until {@link #clearFaults}.
   */
  public void failRequests(int status, Predicate<RecordedRequest> which) {
    this.failStatus = status;
    this.failing = Objects.requireNonNull(which, "which");
  }

  /** Answers every request with {@code status} (for example 500), until {@link #clearFaults}. */
  public void failRequests(int status) {
    failRequests(status, r -> true);
  }

  /** Answers the next {@code count} requests with {@code status}. */
  public void failNextRequests(int count, int status) {
    this.failStatus = status;
    failNext.set(count);
  }

  /** Holds every response for {@code delay} before answering, until {@link #clearFaults}. */
  public void delayResponses(Duration delay) {
    this.delayNanos = delay.toNanos();
  }

  /**
   * Drops every index to 1, as a snapshot restore or a rebuilt cluster does: clients holding a
   * higher index block until their wait runs out, then see the index go backwards.
   */
  public void rewindIndex() {
    state.rewind();
  }

  /**
   * Reports {@code X-Consul-Index: 0} (an old Consul bug, or a proxy dropping the header), so a
   * client that blocks on it would busy-loop; blocking still follows the real index.
   */
  public void reportIndexZero(boolean zero) {
    this.indexZero = zero;
  }

  /**
   * Answers health queries with 200 and {@code body} verbatim (for example not JSON), until {@link
   * #clearFaults}.
   */
  public void healthBody(String body) {
    this.healthBody = body;
  }

  /**
   * Appends {@code json} verbatim to every health answer for {@code service}, unfiltered, for
   * entries Consul itself would not produce (malformed ones).
   */
  public void addRawEntry(String service, String json) {
    state.addRawEntry(service, json);
  }

  /** Removes the raw entries. */
  public void clearRawEntries() {
    state.clearRawEntries();
  }

  /** Ends every fault: failing, delayed, index-zero and replaced responses. */
  public void clearFaults() {
    failing = null;
    failNext.set(0);
    delayNanos = 0;
    indexZero = false;
    healthBody = null;
    synchronized (delays) {
      delays.notifyAll();
    }
  }

  /**
   * Restarts the agent without its data directory: connections drop, and its services and checks
   * are forgotten (heartbeats then get 404 "Unknown check ID"). Indexes go on.
   */
  public void restart() {
    stop();
    state.forgetAgentServices();
    resume();
  }

  /** Stops listening: connections drop and new ones are refused, until {@link #resume()}. */
  public void stop() {
    HttpServer current = server;
    server = null;
    generation++;
    state.wakeAll();
    synchronized (delays) {
      delays.notifyAll();
    }
    if (current != null) {
      current.stop(0);
    }
  }

  /** Listens again on the same port after {@link #stop()}. */
  public void resume() {
    if (server == null) {
      server = bind(port);
    }
  }

  /** Stops the stand-in and its threads. */
  @Override
  public void close() {
    stop();
    handlers.shutdownNow();
    timers.shutdownNow();
  }

  @Override
  public String toString() {
    return "ConsulStandIn[" + uri() + "]";
  }

  // ---- HTTP ----

  private HttpServer bind(int onPort) {
    try {
      InetSocketAddress address = new InetSocketAddress(InetAddress.getLoopbackAddress(), onPort);
      HttpServer bound;
      if (config.sslContext != null) {
        HttpsServer https = HttpsServer.create(address, 64);
        https.setHttpsConfigurator(new HttpsConfigurator(config.sslContext));
        bound = https;
      } else {
        bound = HttpServer.create(address, 64);
      }
      bound.setExecutor(handlers);
      bound.createContext("/", this::handle);
      bound.start();
      return bound;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot listen on 127.0.0.1:" + onPort, e);
    }
  }

  private void handle(HttpExchange exchange) {
    int seenGeneration = generation;
    try (exchange) {
      try {
        serve(exchange, seenGeneration);
      } catch (ApiException e) {
        respondQuietly(exchange, e.status, e.getMessage());
      } catch (IOException | RuntimeException e) {
        respondQuietly(exchange, 500, "stand-in error: " + e);
      }
    }
  }

  private void serve(HttpExchange exchange, int seenGeneration) throws IOException {
    byte[] body = exchange.getRequestBody().readAllBytes();
    String method = exchange.getRequestMethod();
    String path = decode(exchange.getRequestURI().getRawPath());
    String query = Objects.requireNonNullElse(exchange.getRequestURI().getRawQuery(), "");
    RecordedRequest request =
        new RecordedRequest(
            System.nanoTime(),
            method,
            path,
            query,
            token(exchange, query),
            new String(body, StandardCharsets.UTF_8));
    requests.add(request);
    delay(seenGeneration);
    if (generation != seenGeneration) {
      return; // stopped meanwhile: the connection is gone
    }
    Predicate<RecordedRequest> failingNow = failing;
    if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0
        || (failingNow != null && failingNow.test(request))) {
      respond(exchange, failStatus, "stand-in fault: HTTP " + failStatus, null);
      return;
    }
    if (config.aclToken != null && !config.aclToken.equals(request.token())) {
      respond(exchange, 403, request.token() == null ? "Permission denied" : "ACL not found", null);
      return;
    }
    route(exchange, request, body);
  }

  private void route(HttpExchange exchange, RecordedRequest request, byte[] body)
      throws IOException {
    String path = request.path();
    String method = request.method();
    if (path.startsWith("/v1/health/service/")) {
      requireMethod(method, "GET");
      health(exchange, request, path.substring("/v1/health/service/".length()));
    } else if (path.equals("/v1/agent/service/register")) {
      requireMethod(method, "PUT");
      state.agentRegister(json(body), request.queryParameter("replace-existing-checks") != null);
      respond(exchange, 200, "", null);
    } else if (path.startsWith("/v1/agent/service/deregister/")) {
      requireMethod(method, "PUT");
      state.agentDeregister(path.substring("/v1/agent/service/deregister/".length()));
      respond(exchange, 200, "", null);
    } else if (path.startsWith("/v1/agent/check/")) {
      requireMethod(method, "PUT");
      checkUpdate(exchange, request, path.substring("/v1/agent/check/".length()), body);
    } else if (path.equals("/v1/agent/services")) {
      requireMethod(method, "GET");
      respond(exchange, 200, state.agentServices().toString(), null);
    } else if (path.equals("/v1/agent/checks")) {
      requireMethod(method, "GET");
      respond(exchange, 200, state.agentChecks().toString(), null);
    } else if (path.equals("/v1/catalog/register")) {
      requireMethod(method, "PUT");
      state.catalogRegister(json(body));
      respond(exchange, 200, "true", null);
    } else if (path.equals("/v1/catalog/deregister")) {
      requireMethod(method, "PUT");
      state.catalogDeregister(json(body));
      respond(exchange, 200, "true", null);
    } else if (path.equals("/v1/status/leader")) {
      requireMethod(method, "GET");
      respond(exchange, 200, "\"127.0.0.1:8300\"", null);
    } else {
      respond(exchange, 404, "404 page not found", null);
    }
  }

  private void health(HttpExchange exchange, RecordedRequest request, String service)
      throws IOException {
    String dc = request.queryParameter("dc");
    if (dc != null && !dc.equals(config.datacenter)) {
      respond(exchange, 500, "No path to datacenter", null);
      return;
    }
    String passing = request.queryParameter("passing");
    boolean passingOnly = passing != null && !passing.equals("false") && !passing.equals("0");
    long minIndex = 0;
    String index = request.queryParameter("index");
    if (index != null) {
      try {
        minIndex = Long.parseLong(index);
      } catch (NumberFormatException e) {
        throw new ApiException(400, "Invalid index: " + index);
      }
    }
    Duration wait = Duration.ofMinutes(5);
    String waitText = request.queryParameter("wait");
    if (waitText != null) {
      try {
        wait = GoDuration.parse(waitText);
      } catch (IllegalArgumentException e) {
        throw new ApiException(400, "Invalid wait time");
      }
      if (wait.compareTo(Duration.ofMinutes(10)) > 0) {
        wait = Duration.ofMinutes(10);
      }
    }
    StandInState.Health health = state.health(service, passingOnly, minIndex, wait);
    String replaced = healthBody;
    long reported = indexZero ? 0 : health.index();
    respond(exchange, 200, replaced != null ? replaced : health.body(), reported);
  }

  private void checkUpdate(HttpExchange exchange, RecordedRequest request, String rest, byte[] body)
      throws IOException {
    int slash = rest.indexOf('/');
    String verb = slash < 0 ? rest : rest.substring(0, slash);
    String checkId = slash < 0 ? "" : rest.substring(slash + 1);
    String note = Objects.requireNonNullElse(request.queryParameter("note"), "");
    switch (verb) {
      case "pass" -> state.updateTtl(checkId, "passing", note);
      case "warn" -> state.updateTtl(checkId, "warning", note);
      case "fail" -> state.updateTtl(checkId, "critical", note);
      case "update" -> {
        JsonNode update = json(body);
        JsonNode status = GoJson.field(update, "Status");
        JsonNode output = GoJson.field(update, "Output");
        state.updateTtl(
            checkId, status == null ? "" : status.asText(), output == null ? "" : output.asText());
      }
      default -> {
        respond(exchange, 404, "404 page not found", null);
        return;
      }
    }
    respond(exchange, 200, "", null);
  }

  private void delay(int seenGeneration) {
    long nanos = delayNanos;
    if (nanos <= 0) {
      return;
    }
    long deadline = System.nanoTime() + nanos;
    synchronized (delays) {
      long remaining;
      while (delayNanos > 0
          && generation == seenGeneration
          && (remaining = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(delays, remaining);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  private JsonNode json(byte[] body) {
    try {
      JsonNode node = mapper.readTree(body);
      if (node == null || node.isMissingNode()) {
        throw new ApiException(400, "Request decode failed: EOF");
      }
      return node;
    } catch (IOException e) {
      throw new ApiException(400, "Request decode failed: " + e.getMessage());
    }
  }

  private static void requireMethod(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new ApiException(405, "method " + method + " not allowed");
    }
  }

  private static @Nullable String token(HttpExchange exchange, String query) {
    String header = exchange.getRequestHeaders().getFirst("X-Consul-Token");
    if (header != null) {
      return header;
    }
    String bearer = exchange.getRequestHeaders().getFirst("Authorization");
    if (bearer != null && bearer.startsWith("Bearer ")) {
      return bearer.substring("Bearer ".length());
    }
    return new RecordedRequest(0, "", "", query, null, "").queryParameter("token");
  }

  private void respond(HttpExchange exchange, int status, String body, @Nullable Long index)
      throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    var headers = exchange.getResponseHeaders();
    headers.set(
        "Content-Type",
        status == 200 && !body.isEmpty() ? "application/json" : "text/plain; charset=utf-8");
    if (index != null) {
      headers.set("X-Consul-Index", Long.toString(index));
      headers.set("X-Consul-KnownLeader", "true");
      headers.set("X-Consul-LastContact", "0");
    }
    exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
    if (bytes.length > 0) {
      exchange.getResponseBody().write(bytes);
    }
  }

  private void respondQuietly(HttpExchange exchange, int status, @Nullable String body) {
    try {
      respond(exchange, status, body == null ? "" : body, null);
    } catch (IOException | RuntimeException e) {
      // the client went away
    }
  }

  /** Percent-decodes a path (a '+' stays a '+'). */
  private static String decode(String raw) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c == '%' && i + 2 < raw.length()) {
        out.write(Integer.parseInt(raw.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        byte[] bytes = String.valueOf(c).getBytes(StandardCharsets.UTF_8);
        out.write(bytes, 0, bytes.length);
      }
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  private static Thread daemon(Runnable runnable, String name) {
    Thread thread = new Thread(runnable, name);
    thread.setDaemon(true);
    return thread;
  }

  /** Configures a {@link ConsulStandIn}. Not thread-safe. */
  public static final class Builder {
    private int port;
    private @Nullable SSLContext sslContext;
    private @Nullable String aclToken;
    private String nodeName = "stand-in";
    private String datacenter = "dc1";
    private Duration deregisterMinimum = Duration.ofMinutes(1);

    private Builder() {}

    /** The port on 127.0.0.1; default 0, any free port. */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be between 0 and 65535 but was " + port);
      }
      this.port = port;
      return this;
    }

    /** Serves HTTPS with this context (its key manager holds the server's certificate). */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    /**
     * Requires this token on every request ({@code X-Consul-Token}, {@code Authorization: Bearer}
     * or {@code ?token=}); others get 403, as with ACLs in default-deny mode.
     */
    public Builder aclToken(String aclToken) {
      this.aclToken = Objects.requireNonNull(aclToken, "aclToken");
      return this;
    }

    /** The agent's node name; default {@code stand-in}. Its address is 127.0.0.1. */
    public Builder nodeName(String nodeName) {
      this.nodeName = Objects.requireNonNull(nodeName, "nodeName");
      return this;
    }

    /** The datacenter; default {@code dc1}. Queries for another answer 500. */
    public Builder datacenter(String datacenter) {
      this.datacenter = Objects.requireNonNull(datacenter, "datacenter");
      return this;
    }

    /**
     * The least DeregisterCriticalServiceAfter applied (Consul's check_deregister_interval_min);
     * default 1 minute, as Consul. Tests lower it to see reaping quickly.
     */
    public Builder deregisterCriticalMinimum(Duration minimum) {
      if (minimum.isNegative()) {
        throw new IllegalArgumentException("deregisterCriticalMinimum must not be negative");
      }
      this.deregisterMinimum = minimum;
      return this;
    }

    /** Starts the stand-in. */
    public ConsulStandIn start() {
      return new ConsulStandIn(this);
    }
  }
}
