package dev.switchboard.lb.http;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsServer;
import dev.switchboard.lb.AdvertisedAddress;
import dev.switchboard.lb.GracefulShutdown;
import dev.switchboard.lb.LoadProbes;
import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Registers a running HTTP server (the JDK {@code HttpServer}, Jetty, Netty, ...) in a {@link
 * ServiceRegistry} so that clients balance over it, and takes it out gracefully. With the JDK
 * server:
 *
 * <pre>{@code
 * RequestTracker tracker = new RequestTracker();
 * HttpServer server = HttpServer.create(new InetSocketAddress(8080), 0); // every interface
 * server.createContext("/", handler).getFilters().add(tracker.filter());
 * server.start();
 * HttpServiceRegistration registration =
 *     HttpServiceRegistration.builder(registry, EchoHandler.class) // @HttpService(name = "echo")
 *         .server(server)
 *         .tracker(tracker)
 *         .register();
 * ...
 * registration.close(); // drain, deregister, wait for in-flight requests (bounded), stop
 * }</pre>
 *
 * <p>For another server, give its address with {@link Builder#address}, how to stop it with {@link
 * Builder#onStop}, and track its requests with {@link RequestTracker#begin()}. A server listening
 * on every interface (the wildcard address) is registered with the first address of this host that
 * other hosts can reach, IPv4 first (see {@link AdvertisedAddress}), unless {@link
 * Builder#advertiseHost} says otherwise; registering a loopback address logs a warning. The drain
 * is {@link GracefulShutdown}'s, the same as {@code ThriftServer}'s.
 *
 * <p>Thread-safe; {@link #close()} runs the shutdown once, on the first caller's thread; other
 * callers wait until it has finished.
 */
public final class HttpServiceRegistration implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(HttpServiceRegistration.class);

  private final Registration registration;
  private final GracefulShutdown shutdown;

  private HttpServiceRegistration(Registration registration, GracefulShutdown shutdown) {
    this.registration = registration;
    this.shutdown = shutdown;
  }

  /**
   * Starts a registration of the service {@code annotated} declares with {@link HttpService}.
   *
   * @throws IllegalArgumentException if {@code annotated} has no {@code @HttpService}, or its name
   *     is blank, or its weight is out of range
   */
  public static Builder builder(ServiceRegistry registry, Class<?> annotated) {
    Objects.requireNonNull(annotated, "annotated");
    HttpService service = annotated.getAnnotation(HttpService.class);
    if (service == null) {
      throw new IllegalArgumentException(
          annotated.getName()
              + " is not annotated with @HttpService(name = ...): it declares no service to"
              + " register");
    }
    String where = "@HttpService on " + annotated.getName();
    if (service.name().isBlank()) {
      throw new IllegalArgumentException(where + ": name must not be blank");
    }
    if (service.weight() < 0 || service.weight() > ServiceInstance.MAX_WEIGHT) {
      throw new IllegalArgumentException(
          where
              + ": weight must be between 0 and "
              + ServiceInstance.MAX_WEIGHT
              + " but was "
              + service.weight());
    }
    return new Builder(registry, service.name()).zone(service.zone()).weight(service.weight());
  }

  /**
   * Starts a registration of {@code service}.
   *
   * @throws IllegalArgumentException if {@code service} is blank
   */
  public static Builder builder(ServiceRegistry registry, String service) {
    Objects.requireNonNull(service, "service");
    if (service.isBlank()) {
      throw new IllegalArgumentException("service must not be blank");
    }
    return new Builder(registry, service);
  }

  /** The instance as last written to the registry. */
  public ServiceInstance instance() {
    return registration.instance();
  }

  /**
   * Takes the server out gracefully, as {@link GracefulShutdown} does for every server: marks it
   * draining (clients stop picking it), waits the drain delay, deregisters it, waits up to the
   * drain timeout for the requests it is handling, then stops it. Registry errors are logged and do
   * not stop the shutdown; every wait is bounded. Idempotent; a concurrent caller waits until it
   * has finished.
   */
  @Override
  public void close() {
    shutdown.close();
  }

  @Override
  public String toString() {
    return "HttpServiceRegistration{" + registration.instance() + "}";
  }

  /**
   * Configures an {@link HttpServiceRegistration}; each setter validates its value at once. Not
   * thread-safe. Defaults: zone and weight from the annotation (else none and 100), scheme {@code
   * http}, id {@code host:port}, drain delay 500 ms and timeout 30 s (as {@code ThriftServer}), no
   * tracker (no waiting), no stop action.
   */
  public static final class Builder {
    private final ServiceRegistry registry;
    private final String service;
    private String zone = ServiceInstance.NO_ZONE;
    private int weight = ServiceInstance.DEFAULT_WEIGHT;
    private @Nullable String host;
    private int port;
    private @Nullable String advertiseHost;
    private AdvertisedAddress.Source addressSource = AdvertisedAddress.Source.system();
    private @Nullable String id;
    private final Map<String, String> metadata = new LinkedHashMap<>();
    private @Nullable RequestTracker tracker;
    private GracefulShutdown.Timing drain = GracefulShutdown.Timing.DEFAULTS;
    private Runnable stop = () -> {};
    private boolean loadProbes = true;

    private Builder(ServiceRegistry registry, String service) {
      this.registry = Objects.requireNonNull(registry, "registry");
      this.service = service;
    }

    /**
     * Takes the address from a bound JDK server ({@code https} if it is an {@code HttpsServer}) and
     * stops it with {@code server.stop(0)} once drained. A server on the wildcard address is
     * registered with this host's first address other hosts can reach (see {@link
     * AdvertisedAddress}) unless {@link #advertiseHost} is set.
     *
     * @throws IllegalArgumentException if the server is not bound
     */
    public Builder server(HttpServer server) {
      Objects.requireNonNull(server, "server");
      InetSocketAddress bound = server.getAddress();
      if (bound == null || bound.getAddress() == null || bound.getPort() == 0) {
        throw new IllegalArgumentException("server is not bound to a port: " + bound);
      }
      address(bound.getAddress().getHostAddress(), bound.getPort());
      scheme(server instanceof HttpsServer ? "https" : "http");
      return onStop(() -> server.stop(0));
    }

    /**
     * Where clients connect. A wildcard host ({@code 0.0.0.0}, {@code ::}) stands for this host's
     * first address other hosts can reach, as for {@link #server}.
     *
     * @throws IllegalArgumentException if the host is blank or the port out of range
     */
    public Builder address(String host, int port) {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("host must not be blank");
      }
      if (port < 1 || port > 65_535) {
        throw new IllegalArgumentException("port must be between 1 and 65535 but was " + port);
      }
      this.host = host;
      this.port = port;
      return this;
    }

    /**
     * The host clients should dial, whatever {@link #server} or {@link #address} said (a NAT, a
     * host with several networks, a DNS name).
     *
     * @throws IllegalArgumentException if the host is blank
     */
    public Builder advertiseHost(String host) {
      Objects.requireNonNull(host, "host");
      if (host.isBlank()) {
        throw new IllegalArgumentException("advertiseHost must not be blank");
      }
      this.advertiseHost = host;
      return this;
    }

    /** Where the address for a wildcard server comes from; tests inject interfaces here. */
    Builder addressSource(AdvertisedAddress.Source source) {
      this.addressSource = Objects.requireNonNull(source, "source");
      return this;
    }

    /** {@code http} or {@code https}, stored as the instance's {@code scheme} metadata. */
    public Builder scheme(String scheme) {
      if (!"http".equals(scheme) && !"https".equals(scheme)) {
        throw new IllegalArgumentException("scheme must be 'http' or 'https' but was " + scheme);
      }
      metadata.put(ServiceUri.SCHEME_KEY, scheme);
      return this;
    }

    public Builder zone(String zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    /** The relative share of traffic, 0 to {@value ServiceInstance#MAX_WEIGHT}. */
    public Builder weight(int weight) {
      if (weight < 0 || weight > ServiceInstance.MAX_WEIGHT) {
        throw new IllegalArgumentException(
            "weight must be between 0 and " + ServiceInstance.MAX_WEIGHT + " but was " + weight);
      }
      this.weight = weight;
      return this;
    }

    /** The instance id, unique within the service; defaults to {@code host:port}. */
    public Builder id(String id) {
      this.id = Objects.requireNonNull(id, "id");
      return this;
    }

    /** Adds a metadata pair carried through the registry. */
    public Builder metadata(String key, String value) {
      metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Counts the server's requests, so {@link #close()} can wait for them. */
    public Builder tracker(RequestTracker tracker) {
      this.tracker = Objects.requireNonNull(tracker, "tracker");
      return this;
    }

    /**
     * How long {@link #close()} waits after marking the instance draining before deregistering
     * (time for clients to see it; default 500 ms), and the most it then waits for in-flight
     * requests before stopping the server (default 30 s). The same options as {@code
     * ThriftServer}'s.
     *
     * @throws IllegalArgumentException if either is negative
     */
    public Builder drain(Duration delay, Duration timeout) {
      this.drain = new GracefulShutdown.Timing(delay, timeout);
      return this;
    }

    /** Stops the server; run last by {@link #close()}. */
    public Builder onStop(Runnable stop) {
      this.stop = Objects.requireNonNull(stop, "stop");
      return this;
    }

    /**
     * Whether the server answers Prequal's load probes (default true, when a {@link #tracker} is
     * given: the probes are answered from it) on a UDP port of its own, published under {@link
     * LoadProbes#METADATA_KEY}. HTTP itself is untouched either way.
     */
    public Builder loadProbes(boolean answer) {
      this.loadProbes = answer;
      return this;
    }

    /** Answers load probes on {@link #host}, or null (logged) if that cannot be done. */
    private LoadProbes.@Nullable Responder probeResponder() {
      try {
        return LoadProbes.respond(InetAddress.getByName(host), tracker.load());
      } catch (IOException e) {
        logger.warn(
            "Service '{}': no UDP port for load probes ({}); Prequal clients will not probe it",
            service,
            e.toString());
        return null;
      }
    }

    /**
     * Registers the instance; call it once the server accepts requests.
     *
     * @throws IllegalStateException if no address was given
     * @throws RegistryException if the registry refused or could not be reached; nothing was
     *     registered and the server was left running (it is the caller's)
     */
    public HttpServiceRegistration register() {
      if (host == null) {
        throw new IllegalStateException(
            "no address for service '" + service + "': call server(...) or address(host, port)");
      }
      LoadProbes.Responder probes = loadProbes && tracker != null ? probeResponder() : null;
      if (probes != null) {
        metadata.put(LoadProbes.METADATA_KEY, Integer.toString(probes.port()));
      }
      String advertised =
          advertiseHost != null
              ? advertiseHost
              : AdvertisedAddress.forBindHost(host, addressSource);
      ServiceInstance.Builder instance =
          ServiceInstance.builder(service, advertised, port)
              .zone(zone)
              .weight(weight)
              .metadata(Map.copyOf(metadata));
      if (id != null) {
        instance.id(id);
      }
      ServiceInstance registered = instance.build();
      AdvertisedAddress.warnIfLoopback(registered);
      Registration registration;
      try {
        registration = registry.register(registered);
      } catch (RuntimeException e) {
        if (probes != null) {
          probes.close();
        }
        throw new RegistryException(
            "Service '"
                + service
                + "' at "
                + registered.address()
                + " was not registered: registering it failed ("
                + e.getMessage()
                + "); the server keeps running",
            e);
      }
      logger.info("Service '{}': registered {}", service, registered.address());
      Runnable stopServer = stop;
      GracefulShutdown.Builder shutdown =
          GracefulShutdown.builder(registered)
              .registration(registration)
              .timing(drain)
              .onStop(
                  () -> {
                    if (probes != null) {
                      probes.close();
                    }
                    stopServer.run();
                  });
      if (tracker != null) {
        shutdown.inFlight(tracker);
      }
      return new HttpServiceRegistration(registration, shutdown.build());
    }
  }
}
