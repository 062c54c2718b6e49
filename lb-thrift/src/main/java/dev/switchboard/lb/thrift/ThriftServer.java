package dev.switchboard.lb.thrift;

import dev.switchboard.lb.AdvertisedAddress;
import dev.switchboard.lb.GracefulShutdown;
import dev.switchboard.lb.LoadProbes;
import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLContext;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.TProcessor;
import org.apache.thrift.server.TServer;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.server.TThreadedSelectorServer;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TTransportException;
import org.apache.thrift.transport.layered.TFramedTransport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A Thrift server that registers itself once it accepts connections and leaves gracefully: {@link
 * #close()} marks the instance draining (clients stop sending it new calls), waits for the registry
 * to spread that, deregisters, waits (bounded) for in-flight calls, then stops. A rolling restart
 * through this path loses no call.
 *
 * <pre>{@code
 * ThriftServer server = ThriftServer.builder(handler, new Echo.Processor<>(handler))
 *     .registry(registry)
 *     .port(0)
 *     .start();
 * }</pre>
 *
 * <p>By default it listens on every interface and registers the first address of this host that
 * other hosts can reach (IPv4 first; see {@link AdvertisedAddress}); {@link Builder#host} and
 * {@link Builder#advertiseHost} choose otherwise. If registering fails, {@link Builder#start()}
 * stops the server before it throws. The drain is {@link GracefulShutdown}'s, the same as {@code
 * HttpServiceRegistration}'s.
 *
 * <p>The handler's class carries {@link ThriftService}. With framed transport (the default), plain
 * or TLS, a selector server: idle connections and unfinished TLS handshakes hold no thread, and the
 * server closes connections idle past {@link Builder#idleTimeout} and handshakes slower than {@link
 * Builder#handshakeTimeout}. Unframed transport needs a thread per connection. Thread-safe.
 */
public final class ThriftServer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ThriftServer.class);
  // Calls still running when the server stops get this long (drain waits for them first).
  private static final int STOP_TIMEOUT_SECONDS = 2;
  private static final int START_TIMEOUT_SECONDS = 10;

  private final TServer server;
  private final @Nullable SelectorServerSocket serverSocket;
  private final Thread serveThread;
  private final CountingProcessor processor;
  private final LoadProbes.@Nullable Responder probes;
  private final ServiceInstance instance;
  private final GracefulShutdown shutdown;

  private ThriftServer(Builder b) throws TTransportException {
    ThriftService service = ServerSetup.serviceOf(b.handler);
    this.processor = new CountingProcessor(b.processor);
    InetSocketAddress bind = b.bindAddress();
    int port;
    if (b.framed) {
      TConfiguration config =
          new TConfiguration(
              TConfiguration.DEFAULT_MAX_MESSAGE_SIZE,
              b.maxFrameSize,
              TConfiguration.DEFAULT_RECURSION_DEPTH);
      this.serverSocket =
          new SelectorServerSocket(
              bind,
              b.sslContext,
              b.requireClientAuth,
              config,
              b.idleTimeout,
              b.handshakeTimeout,
              processor::inFlight);
      port = serverSocket.port();
      TThreadedSelectorServer.Args args =
          new TThreadedSelectorServer.Args(serverSocket)
              .selectorThreads(Math.max(1, b.workerThreads / 4))
              .workerThreads(b.workerThreads)
              .stopTimeoutVal(STOP_TIMEOUT_SECONDS)
              .stopTimeoutUnit(TimeUnit.SECONDS);
      args.processor(processor)
          .protocolFactory(b.protocol.factory())
          .transportFactory(new TFramedTransport.Factory(b.maxFrameSize));
      args.maxReadBufferBytes = b.maxFrameSize + 4L;
      server = new TThreadedSelectorServer(args);
    } else {
      // Unframed Thrift cannot be read without a thread per connection; idle ones are reaped.
      this.serverSocket = null;
      ServerSocket socket = ServerSetup.listen(b.sslContext, bind, b.requireClientAuth);
      port = socket.getLocalPort();
      TServerSocket transport = new TServerSocket(socket, Timeouts.millis(b.idleTimeout));
      server =
          new TThreadPoolServer(
              new TThreadPoolServer.Args(transport)
                  .processor(processor)
                  .protocolFactory(b.protocol.factory())
                  .minWorkerThreads(1)
                  .maxWorkerThreads(b.workerThreads * 8)
                  .stopTimeoutVal(STOP_TIMEOUT_SECONDS)
                  .stopTimeoutUnit(TimeUnit.SECONDS));
    }
    // Keys in letters, digits and '_' only: Consul's Meta accepts nothing else.
    Map<String, String> metadata = new HashMap<>(b.metadata);
    metadata.put("thrift_protocol", b.protocol.name().toLowerCase(java.util.Locale.ROOT));
    metadata.put("thrift_transport", b.framed ? "framed" : "buffered");
    metadata.put("tls", Boolean.toString(b.sslContext != null));
    this.probes = b.loadProbes ? ServerSetup.probeResponder(bind, processor) : null;
    if (probes != null) {
      metadata.put(LoadProbes.METADATA_KEY, Integer.toString(probes.port()));
    }
    String host = b.advertisedHost();
    this.instance =
        ServiceInstance.builder(service.name(), host, port)
            .id(b.instanceId != null ? b.instanceId : service.name() + "-" + host + ":" + port)
            .zone(b.zone != null ? b.zone : service.zone())
            .weight(b.weight != null ? b.weight : service.weight())
            .metadata(metadata)
            .build();

    ServingSignal serving = new ServingSignal();
    server.setServerEventHandler(serving);
    serveThread = new Thread(server::serve, "switchboard-thrift-server-" + port);
    serveThread.setDaemon(true);
    serveThread.start();
    try {
      if (!serving.await(server, START_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        stopServing();
        throw new TTransportException("Thrift server on port " + port + " did not start in 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopServing();
      throw new TTransportException("interrupted while starting the Thrift server", e);
    }
    GracefulShutdown.Builder shutdown =
        GracefulShutdown.builder(instance)
            .timing(b.drain)
            .inFlight(processor)
            .onStop(this::stopServing);
    if (b.registry != null) {
      AdvertisedAddress.warnIfLoopback(instance);
      shutdown.registration(register(b.registry));
    }
    this.shutdown = shutdown.build();
    logger.info(
        "Thrift server '{}' serving on {}{}",
        instance.service(),
        instance.address(),
        b.registry != null ? " (registered)" : "");
  }

  /** Registers, or stops serving and says why: a failed start leaves no thread and no port. */
  private Registration register(ServiceRegistry registry) {
    try {
      return registry.register(instance);
    } catch (RuntimeException e) {
      stopServing();
      throw new RegistryException(
          "Thrift server '"
              + instance.service()
              + "' on "
              + instance.address()
              + " did not start: registering it failed ("
              + e.getMessage()
              + "); the server was stopped and its port released",
          e);
    }
  }

  /** Starts a server for {@code handler} (annotated with {@link ThriftService}). */
  public static Builder builder(Object handler, TProcessor processor) {
    return new Builder(handler, processor);
  }

  /** The instance this server registered (host, actual port, zone, weight). */
  public ServiceInstance instance() {
    return instance;
  }

  public int port() {
    return instance.port();
  }

  /**
   * Connections open now, handshaking, idle or busy (framed servers; -1 for an unframed one, whose
   * thread pool does not count them).
   */
  public int connections() {
    return serverSocket == null ? -1 : serverSocket.connections();
  }

  /** Calls being processed now. */
  public int inFlight() {
    return processor.inFlight();
  }

  /**
   * Drains and stops, as {@link GracefulShutdown} does for every server: marks the instance
   * draining, waits the drain delay, deregisters, waits up to the drain timeout for in-flight
   * calls, then stops serving. Registry errors are logged and do not prevent the stop; every wait
   * is bounded. Idempotent; a concurrent caller waits until the server has stopped.
   */
  @Override
  public void close() {
    shutdown.close();
  }

  /** Stops at once: no drain, no deregistration (tests of abrupt failure). */
  public void kill() {
    shutdown.kill();
  }

  /** Stops the server and waits (bounded) for its serve thread, which closes the port. */
  private void stopServing() {
    if (probes != null) {
      probes.close();
    }
    server.stop();
    try {
      serveThread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (serveThread.isAlive()) {
      logger.warn("Thrift server on port {}: serve thread still running 10 s after stop", port());
    } else {
      logger.info("Thrift server '{}' on {} stopped", instance.service(), instance.address());
    }
  }

  /** Configures a {@link ThriftServer}; each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private final Object handler;
    private final TProcessor processor;
    private @Nullable ServiceRegistry registry;
    private @Nullable String bindHost; // null: the wildcard address
    private @Nullable String advertiseHost;
    private AdvertisedAddress.Source addressSource = AdvertisedAddress.Source.system();
    private int port;
    private @Nullable String instanceId;
    private @Nullable String zone;
    private @Nullable Integer weight;
    private Map<String, String> metadata = Map.of();
    private ThriftProtocol protocol = ThriftProtocol.BINARY;
    private boolean framed = true;
    private int maxFrameSize = 16 * 1024 * 1024;
    private int workerThreads = 8;
    private @Nullable SSLContext sslContext;
    private boolean requireClientAuth;
    private GracefulShutdown.Timing drain = GracefulShutdown.Timing.DEFAULTS;
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration handshakeTimeout = Duration.ofSeconds(10);
    private boolean loadProbes = true;

    private Builder(Object handler, TProcessor processor) {
      this.handler = Objects.requireNonNull(handler, "handler");
      this.processor = Objects.requireNonNull(processor, "processor");
      ServerSetup.serviceOf(handler); // fail fast on a bad annotation
    }

    /** Registers the server here once it accepts connections; none: no registration. */
    public Builder registry(ServiceRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * The address to listen on, registered as given unless {@link #advertiseHost} is set. By
     * default the server listens on every interface (the wildcard address) and registers the first
     * address of this host that other hosts can reach, IPv4 before IPv6 (see {@link
     * AdvertisedAddress}); with no such address, the loopback address, with a warning.
     */
    public Builder host(String host) {
      this.bindHost = Objects.requireNonNull(host, "host");
      return this;
    }

    /**
     * The host clients should dial, when it differs from the bind address (a NAT, a host with
     * several networks, a DNS name). Registering a loopback address logs a warning: clients on
     * other hosts could not reach it.
     */
    public Builder advertiseHost(String host) {
      this.advertiseHost = Objects.requireNonNull(host, "host");
      return this;
    }

    /** Where the default advertised address comes from; tests inject interfaces here. */
    Builder addressSource(AdvertisedAddress.Source source) {
      this.addressSource = Objects.requireNonNull(source, "source");
      return this;
    }

    /** The address to bind: {@link #host}, or the wildcard address. */
    InetSocketAddress bindAddress() {
      return bindHost == null ? new InetSocketAddress(port) : new InetSocketAddress(bindHost, port);
    }

    /** The host to register: {@link #advertiseHost}, else {@link #host}, else the source's. */
    String advertisedHost() {
      return advertiseHost != null
          ? advertiseHost
          : AdvertisedAddress.forBindHost(bindHost, addressSource);
    }

    /**
     * Whether the server answers Prequal's load probes on a UDP port of its own, published in its
     * registry entry under {@link LoadProbes#METADATA_KEY} (default true). The service's own
     * protocol is untouched either way.
     */
    public Builder loadProbes(boolean answer) {
      this.loadProbes = answer;
      return this;
    }

    /** The port; 0 picks a free one. */
    public Builder port(int port) {
      if (port < 0 || port > 65_535) {
        throw new IllegalArgumentException("port must be between 0 and 65535 but was " + port);
      }
      this.port = port;
      return this;
    }

    public Builder instanceId(String id) {
      this.instanceId = Objects.requireNonNull(id, "id");
      return this;
    }

    /** Overrides the annotation's zone. */
    public Builder zone(String zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    /** Overrides the annotation's weight. */
    public Builder weight(int weight) {
      if (weight < 0 || weight > ServiceInstance.MAX_WEIGHT) {
        throw new IllegalArgumentException("weight must be between 0 and 10000 but was " + weight);
      }
      this.weight = weight;
      return this;
    }

    public Builder metadata(Map<String, String> metadata) {
      this.metadata = Map.copyOf(metadata);
      return this;
    }

    public Builder protocol(ThriftProtocol protocol) {
      this.protocol = Objects.requireNonNull(protocol, "protocol");
      return this;
    }

    /**
     * Framed transport (default): a selector server where connections cost no thread while idle.
     * Unframed uses a thread-pool server with a thread per open connection (up to {@code
     * workerThreads} × 8), for clients that cannot frame.
     */
    public Builder framed(boolean framed) {
      this.framed = framed;
      return this;
    }

    public Builder maxFrameSize(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxFrameSize must be at least 1024 but was " + bytes);
      }
      this.maxFrameSize = bytes;
      return this;
    }

    public Builder workerThreads(int threads) {
      if (threads < 1) {
        throw new IllegalArgumentException("workerThreads must be at least 1 but was " + threads);
      }
      this.workerThreads = threads;
      return this;
    }

    /** Serves TLS with {@code context}; {@code requireClientAuth} demands client certificates. */
    public Builder tls(SSLContext context, boolean requireClientAuth) {
      this.sslContext = Objects.requireNonNull(context, "context");
      this.requireClientAuth = requireClientAuth;
      return this;
    }

    /**
     * How long a connection may stay without a call before the server closes it (default 5 minutes,
     * longer than clients' pools keep idle connections, so a pool normally closes first). A call in
     * progress keeps its connection open however long it takes.
     */
    public Builder idleTimeout(Duration timeout) {
      this.idleTimeout = positive(timeout, "idleTimeout");
      return this;
    }

    /**
     * How long a TLS client may take to finish its handshake before the server closes the
     * connection (default 10 s). Framed servers only: an unframed server handshakes on a
     * connection's thread, bounded by the idle timeout.
     */
    public Builder handshakeTimeout(Duration timeout) {
      this.handshakeTimeout = positive(timeout, "handshakeTimeout");
      return this;
    }

    private static Duration positive(Duration value, String name) {
      if (value.isNegative() || value.isZero()) {
        throw new IllegalArgumentException(name + " must be positive but was " + value);
      }
      return value;
    }

    /**
     * How long {@link #close()} waits after marking the instance draining before deregistering
     * (time for clients to see it; default 500 ms), and the most it then waits for in-flight calls
     * (default 30 s). The same options as {@code HttpServiceRegistration}'s.
     *
     * @throws IllegalArgumentException if either is negative
     */
    public Builder drain(Duration delay, Duration timeout) {
      this.drain = new GracefulShutdown.Timing(delay, timeout);
      return this;
    }

    /**
     * Starts serving, waits until connections are accepted, then registers.
     *
     * @throws TTransportException if the port cannot be bound or the server does not start
     * @throws RegistryException if registering failed; the server was stopped and its port released
     */
    public ThriftServer start() throws TTransportException {
      return new ThriftServer(this);
    }
  }
}
