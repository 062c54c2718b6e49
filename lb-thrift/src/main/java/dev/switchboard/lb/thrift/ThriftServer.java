package dev.switchboard.lb.thrift;

import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLServerSocket;
import org.apache.thrift.TConfiguration;
import org.apache.thrift.TProcessor;
import org.apache.thrift.protocol.TProtocol;
import org.apache.thrift.server.ServerContext;
import org.apache.thrift.server.TServer;
import org.apache.thrift.server.TServerEventHandler;
import org.apache.thrift.server.TThreadPoolServer;
import org.apache.thrift.server.TThreadedSelectorServer;
import org.apache.thrift.transport.TServerSocket;
import org.apache.thrift.transport.TTransport;
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
 * <p>The handler's class carries {@link ThriftService}. With framed transport (the default), plain
 * or TLS, a selector server: idle connections and unfinished TLS handshakes hold no thread, and the
 * server closes connections idle past {@link Builder#idleTimeout} and handshakes slower than {@link
 * Builder#handshakeTimeout}. Unframed transport needs a thread per connection. Thread-safe.
 */
public final class ThriftServer implements AutoCloseable {
  private static final Logger logger = LoggerFactory.getLogger(ThriftServer.class);
  // Calls still running when the server stops get this long (drain waits for them first).
  private static final int STOP_TIMEOUT_SECONDS = 2;

  private final TServer server;
  private final @Nullable SelectorServerSocket serverSocket;
  private final Thread serveThread;
  private final CountingProcessor processor;
  private final ServiceInstance instance;
  private final @Nullable Registration registration;
  private final Duration drainDelay;
  private final Duration drainTimeout;
  private volatile boolean closed;

  private ThriftServer(Builder b) throws TTransportException {
    ThriftService service = serviceOf(b.handler);
    this.processor = new CountingProcessor(b.processor);
    this.drainDelay = b.drainDelay;
    this.drainTimeout = b.drainTimeout;
    InetSocketAddress bind = new InetSocketAddress(b.bindHost, b.port);
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
      ServerSocket socket = listen(b.sslContext, bind, b.requireClientAuth);
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
    String host = b.advertiseHost != null ? b.advertiseHost : b.bindHost;
    this.instance =
        ServiceInstance.builder(service.name(), host, port)
            .id(b.instanceId != null ? b.instanceId : service.name() + "-" + host + ":" + port)
            .zone(b.zone != null ? b.zone : service.zone())
            .weight(b.weight != null ? b.weight : service.weight())
            .metadata(metadata)
            .build();

    CountDownLatch serving = new CountDownLatch(1);
    server.setServerEventHandler(new ServingSignal(serving));
    serveThread = new Thread(server::serve, "switchboard-thrift-server-" + port);
    serveThread.setDaemon(true);
    serveThread.start();
    try {
      if (!serving.await(10, TimeUnit.SECONDS)) {
        server.stop();
        throw new TTransportException("Thrift server on port " + port + " did not start in 10 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      server.stop();
      throw new TTransportException("interrupted while starting the Thrift server", e);
    }
    this.registration = b.registry == null ? null : b.registry.register(instance);
    logger.info(
        "Thrift server '{}' serving on {}{}",
        instance.service(),
        instance.address(),
        registration == null ? "" : " (registered)");
  }

  /** Starts a server for {@code handler} (annotated with {@link ThriftService}). */
  public static Builder builder(Object handler, TProcessor processor) {
    return new Builder(handler, processor);
  }

  /** The @ThriftService of {@code handler}'s class, validated. */
  static ThriftService serviceOf(Object handler) {
    Class<?> type = handler.getClass();
    ThriftService service = type.getAnnotation(ThriftService.class);
    if (service == null) {
      throw new IllegalArgumentException(
          "handler class " + type.getName() + " has no @ThriftService annotation");
    }
    if (service.name().isBlank()) {
      throw new IllegalArgumentException(
          "@ThriftService on " + type.getName() + " must name the service (name is blank)");
    }
    if (service.weight() < 0 || service.weight() > ServiceInstance.MAX_WEIGHT) {
      throw new IllegalArgumentException(
          "@ThriftService on "
              + type.getName()
              + " has weight "
              + service.weight()
              + "; it must be between 0 and "
              + ServiceInstance.MAX_WEIGHT);
    }
    return service;
  }

  private static ServerSocket listen(
      @Nullable SSLContext context, InetSocketAddress bind, boolean requireClientAuth)
      throws TTransportException {
    try {
      ServerSocket socket;
      if (context == null) {
        socket = new ServerSocket();
      } else {
        SSLServerSocket tls =
            (SSLServerSocket) context.getServerSocketFactory().createServerSocket();
        tls.setNeedClientAuth(requireClientAuth);
        socket = tls;
      }
      socket.setReuseAddress(true);
      socket.bind(bind);
      return socket;
    } catch (IOException e) {
      throw new TTransportException("cannot listen on " + bind + ": " + e.getMessage(), e);
    }
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
   * Drains and stops: marks the instance draining, waits the drain delay, deregisters, waits up to
   * the drain timeout for in-flight calls to finish, then stops serving. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    if (registration != null) {
      try {
        registration.drain();
        park(drainDelay.toNanos());
        registration.close();
      } catch (RuntimeException e) {
        logger.warn("Deregistering {} failed; stopping anyway", instance.address(), e);
      }
    }
    long deadline = System.nanoTime() + drainTimeout.toNanos();
    while (processor.inFlight() > 0 && System.nanoTime() - deadline < 0) {
      park(TimeUnit.MILLISECONDS.toNanos(5));
    }
    if (processor.inFlight() > 0) {
      logger.warn(
          "Stopping {} with {} calls still in flight after {}",
          instance.address(),
          processor.inFlight(),
          drainTimeout);
    }
    stopNow();
  }

  /** Stops at once: no drain, no deregistration (tests of abrupt failure). */
  public void kill() {
    closed = true;
    stopNow();
  }

  private void stopNow() {
    server.stop();
    try {
      serveThread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    logger.info("Thrift server '{}' on {} stopped", instance.service(), instance.address());
  }

  private static void park(long nanos) {
    long deadline = System.nanoTime() + nanos;
    for (long left = nanos; left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  /** Configures a {@link ThriftServer}; each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private final Object handler;
    private final TProcessor processor;
    private @Nullable ServiceRegistry registry;
    private String bindHost = InetAddress.getLoopbackAddress().getHostAddress();
    private @Nullable String advertiseHost;
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
    private Duration drainDelay = Duration.ofMillis(500);
    private Duration drainTimeout = Duration.ofSeconds(30);
    private Duration idleTimeout = Duration.ofMinutes(5);
    private Duration handshakeTimeout = Duration.ofSeconds(10);

    private Builder(Object handler, TProcessor processor) {
      this.handler = Objects.requireNonNull(handler, "handler");
      this.processor = Objects.requireNonNull(processor, "processor");
      serviceOf(handler); // fail fast on a bad annotation
    }

    /** Registers the server here once it accepts connections; none: no registration. */
    public Builder registry(ServiceRegistry registry) {
      this.registry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /** The address to listen on (default 127.0.0.1) and to register, unless advertised. */
    public Builder host(String host) {
      this.bindHost = Objects.requireNonNull(host, "host");
      return this;
    }

    /** The host clients should dial, when it differs from the bind address. */
    public Builder advertiseHost(String host) {
      this.advertiseHost = Objects.requireNonNull(host, "host");
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
     * (time for clients to see it), and the most it then waits for in-flight calls.
     */
    public Builder drain(Duration delay, Duration timeout) {
      if (delay.isNegative() || timeout.isNegative()) {
        throw new IllegalArgumentException(
            "drain delay and timeout must not be negative but were " + delay + ", " + timeout);
      }
      this.drainDelay = delay;
      this.drainTimeout = timeout;
      return this;
    }

    /**
     * Starts serving, waits until connections are accepted, then registers.
     *
     * @throws TTransportException if the port cannot be bound or the server does not start
     */
    public ThriftServer start() throws TTransportException {
      return new ThriftServer(this);
    }
  }

  private static final class ServingSignal implements TServerEventHandler {
    private final CountDownLatch serving;

    ServingSignal(CountDownLatch serving) {
      this.serving = serving;
    }

    @Override
    public void preServe() {
      serving.countDown();
    }

    @Override
    public ServerContext createContext(TProtocol input, TProtocol output) {
      return NoContext.INSTANCE; // some servers dereference the context: never null
    }

    @Override
    public void deleteContext(ServerContext context, TProtocol input, TProtocol output) {}

    @Override
    public void processContext(
        ServerContext context, TTransport inputTransport, TTransport outputTransport) {}
  }

  /** An empty per-connection context. */
  private static final class NoContext implements ServerContext {
    static final NoContext INSTANCE = new NoContext();

    @Override
    public <T> T unwrap(Class<T> type) {
      throw new UnsupportedOperationException("no server context");
    }

    @Override
    public boolean isWrapperFor(Class<?> type) {
      return false;
    }
  }
}
