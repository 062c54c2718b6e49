package dev.switchboard.lb.zookeeper;

import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry;
import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.CuratorFrameworkFactory;
import org.apache.curator.framework.imps.CuratorFrameworkState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.apache.curator.utils.PathUtils;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link ServiceRegistry} on ZooKeeper, through Apache Curator.
 *
 * <p>Each instance is an ephemeral node {@code /{basePath}/{service}/{id}} holding Curator
 * x-discovery's {@code ServiceInstance} JSON, with zone, weight, draining and metadata in its
 * payload. Services registered through x-discovery or Spring Cloud Zookeeper are therefore members
 * too, and x-discovery clients (with a {@code Map} payload type) read ours.
 *
 * <ul>
 *   <li>Registrations survive session expiry: the node is re-created as soon as a new session is
 *       established, and a node left behind by one of this registry's expired sessions is replaced
 *       in one transaction.
 *   <li>Watches deliver whole snapshots. While the connection is down they keep the last known
 *       members and call {@link MembershipListener#onError} once; after it returns, a fresh read
 *       reconciles and is delivered.
 *   <li>Malformed nodes are skipped with one warning per node version naming the path.
 *   <li>With {@link Builder#digestAcl digest credentials}, service and instance nodes are writable
 *       only with those credentials and readable by everyone.
 * </ul>
 *
 * <p>Built from a connect string (the registry owns and closes its client) or from a started {@link
 * CuratorFramework} (the caller's: closing the registry leaves it open). Closing the registry
 * deletes its nodes, closes its watches and stops its threads.
 *
 * <p>Thread-safe.
 */
public final class ZooKeeperRegistry implements ServiceRegistry {
  private static final Logger logger = LoggerFactory.getLogger(ZooKeeperRegistry.class);
  private static final AtomicInteger REGISTRY_IDS = new AtomicInteger();
  private static final AtomicInteger NOTIFIER_IDS = new AtomicInteger();

  private final CuratorFramework client;
  private final boolean ownsClient;
  private final String basePath;
  private final String ensemble;
  private final Duration operationTimeout;
  private final InstanceCodec codec = new InstanceCodec();
  private final ConnectionMonitor monitor;
  private final ExecutorService worker;
  private final @Nullable ExecutorService notifier;
  private final Map<String, ZooKeeperRegistration> registrations = new ConcurrentHashMap<>();
  private final Set<ServiceWatch> watches = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile @Nullable Thread workerThread;

  private ZooKeeperRegistry(
      CuratorFramework client,
      boolean ownsClient,
      String basePath,
      String ensemble,
      Duration operationTimeout,
      @Nullable ExecutorService notifier) {
    this.client = client;
    this.notifier = notifier;
    this.ownsClient = ownsClient;
    this.basePath = basePath;
    this.ensemble = ensemble;
    this.operationTimeout = operationTimeout;
    this.monitor = new ConnectionMonitor(ensemble, new Transitions());
    int id = REGISTRY_IDS.incrementAndGet();
    this.worker =
        Executors.newSingleThreadExecutor(
            runnable -> {
              Thread thread = new Thread(runnable, "switchboard-zookeeper-registry-" + id);
              thread.setDaemon(true);
              workerThread = thread;
              return thread;
            });
  }

  /** Starts a builder; set either a connect string or a client. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Registers {@code instance} as an ephemeral node and waits until ZooKeeper has it.
   *
   * @throws IllegalArgumentException if the service or id cannot be a ZooKeeper node name
   * @throws IllegalStateException if this registry already holds that instance, or is closed
   * @throws RegistryException if ZooKeeper refused (for example an ACL) or could not be reached
   */
  @Override
  public Registration register(ServiceInstance instance) {
    Objects.requireNonNull(instance, "instance");
    checkOpen();
    String path = instancePath(instance.service(), instance.id());
    long registrationTime = System.currentTimeMillis();
    EphemeralNode node =
        new EphemeralNode(
            client, path, codec.encode(instance, registrationTime), monitor, this::runOnWorker);
    ZooKeeperRegistration registration =
        new ZooKeeperRegistration(
            instance,
            node,
            codec,
            registrationTime,
            operationTimeout,
            r -> registrations.remove(path, r));
    if (registrations.putIfAbsent(path, registration) != null) {
      throw new IllegalStateException(
          "instance '"
              + instance.id()
              + "' of service '"
              + instance.service()
              + "' is already registered through this registry");
    }
    try {
      node.create();
    } catch (Exception e) {
      registration.close();
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      throw new RegistryException(
          "could not register '"
              + instance.id()
              + "' at "
              + path
              + " on ZooKeeper "
              + ensemble
              + ": "
              + describe(e),
          e);
    }
    if (closed.get()) { // closed while we registered: undo
      registration.close();
      throw new IllegalStateException("registry is closed");
    }
    logger.info("Registered {} at {}", instance.address(), path);
    return registration;
  }

  /**
   * Watches the members of {@code service}. The listener gets the current members once the first
   * read completes, then a snapshot after each change that alters them.
   *
   * @throws IllegalArgumentException if {@code service} cannot be a ZooKeeper node name
   * @throws IllegalStateException if this registry is closed
   */
  @Override
  public Subscription watch(String service, MembershipListener listener) {
    Objects.requireNonNull(listener, "listener");
    checkOpen();
    String servicePath = servicePath(service);
    ServiceWatch watch =
        new ServiceWatch(
            client, service, servicePath, listener, codec, operationTimeout, watches::remove);
    watches.add(watch);
    watch.start();
    if (closed.get()) {
      watch.close();
      throw new IllegalStateException("registry is closed");
    }
    return watch;
  }

  /**
   * Deletes this registry's nodes, closes its watches and stops its threads; closes the client if
   * the registry built it. Idempotent.
   */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    client.getConnectionStateListenable().removeListener(monitor);
    for (ServiceWatch watch : new ArrayList<>(watches)) {
      watch.close();
    }
    for (ZooKeeperRegistration registration : new ArrayList<>(registrations.values())) {
      registration.close();
    }
    worker.shutdownNow();
    if (Thread.currentThread() != workerThread) {
      try {
        if (!worker.awaitTermination(operationTimeout.toMillis(), TimeUnit.MILLISECONDS)) {
          logger.warn("Registry worker did not stop within {}", operationTimeout);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    monitor.closed();
    if (ownsClient) {
      client.close();
    }
    if (notifier != null) {
      notifier.shutdownNow();
    }
  }

  @Override
  public String toString() {
    return "ZooKeeperRegistry[" + ensemble + basePath + "]";
  }

  // Package-private, for tests.

  CuratorFramework client() {
    return client;
  }

  ConnectionMonitor.Phase phase() {
    return monitor.phase();
  }

  String servicePath(String service) {
    requireNodeName(service, "service");
    return ZKPaths.makePath(basePath, service);
  }

  String instancePath(String service, String id) {
    requireNodeName(id, "instance id");
    return ZKPaths.makePath(servicePath(service), id);
  }

  static String describe(Exception e) {
    if (e instanceof KeeperException.NoAuthException) {
      return "not authorised (the node or its parent has an ACL these credentials do not satisfy)";
    }
    if (e instanceof KeeperException.ConnectionLossException
        || e instanceof KeeperException.SessionExpiredException) {
      return "not connected (" + e.getMessage() + ")";
    }
    return e.toString();
  }

  private void start() {
    client.getConnectionStateListenable().addListener(monitor);
    monitor.attach(client);
  }

  private void checkOpen() {
    if (closed.get()) {
      throw new IllegalStateException("registry is closed");
    }
  }

  private void runOnWorker(Runnable task) {
    if (!closed.get()) {
      worker.execute(task);
    }
  }

  private static void requireNodeName(@Nullable String name, String field) {
    if (name == null
        || name.isBlank()
        || name.indexOf('/') >= 0
        || name.equals(".")
        || name.equals("..")) {
      throw new IllegalArgumentException(
          field
              + " must be a ZooKeeper node name (not blank, no '/', not '.' or '..') but was "
              + (name == null ? "null" : "'" + name + "'"));
    }
    try {
      PathUtils.validatePath("/" + name);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          field + " '" + name + "' cannot be a ZooKeeper node name: " + e.getMessage(), e);
    }
  }

  /** Reacts to connection transitions (on Curator's connection-state thread). */
  private final class Transitions implements ConnectionMonitor.Transitions {
    @Override
    public void disconnected(ConnectionMonitor.Phase phase) {
      for (ServiceWatch watch : watches) {
        watch.connectionDown(phase);
      }
    }

    @Override
    public void reconnected(boolean newSession) {
      long reconnectedAt = System.nanoTime();
      try {
        runOnWorker(
            () -> {
              // Our own nodes first, so a watcher in this process sees its own instances.
              for (ZooKeeperRegistration registration : registrations.values()) {
                registration.node().ensureQuietly();
              }
              long registeredAt = System.nanoTime();
              for (ServiceWatch watch : watches) {
                watch.refresh();
              }
              logger.info(
                  "ZooKeeper {}: {} instance(s) re-registered {} ms and {} watch(es) re-read {} ms"
                      + " after reconnecting{}",
                  ensemble,
                  registrations.size(),
                  TimeUnit.NANOSECONDS.toMillis(registeredAt - reconnectedAt),
                  watches.size(),
                  TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - reconnectedAt),
                  newSession ? " with a new session" : "");
            });
      } catch (RejectedExecutionException e) {
        // closing
      }
    }
  }

  /**
   * Configures a {@link ZooKeeperRegistry}. Each setter validates its argument at once and throws
   * {@link IllegalArgumentException} naming the bad value; {@link #build()} throws {@link
   * IllegalStateException} for conflicting settings. Not thread-safe.
   */
  public static final class Builder {
    private static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(10);

    private @Nullable String connectString;
    private @Nullable CuratorFramework client;
    private String basePath = "/services";
    private @Nullable String digestUser;
    private @Nullable String digestPassword;
    private @Nullable Duration sessionTimeout;
    private @Nullable Duration connectionTimeout;

    private Builder() {}

    /**
     * The ZooKeeper ensemble, for example {@code "zk1:2181,zk2:2181,zk3:2181"}; the registry
     * builds, starts and (on close) closes its own client. Exclusive with {@link #client}.
     */
    public Builder connectString(String connectString) {
      if (connectString == null || connectString.isBlank()) {
        throw new IllegalArgumentException(
            "connectString must not be blank but was "
                + (connectString == null ? "null" : "'" + connectString + "'"));
      }
      this.connectString = connectString.strip();
      return this;
    }

    /**
     * A started client to use; the registry never closes it. Exclusive with {@link #connectString},
     * {@link #digestAcl}, {@link #sessionTimeout} and {@link #connectionTimeout} (configure those
     * on the client).
     */
    public Builder client(CuratorFramework client) {
      if (client == null) {
        throw new IllegalArgumentException("client must not be null");
      }
      if (client.getState() != CuratorFrameworkState.STARTED) {
        throw new IllegalArgumentException(
            "client must be started but was " + client.getState() + ": " + client);
      }
      this.client = client;
      return this;
    }

    /**
     * The parent of the service nodes; default {@code "/services"} (Spring Cloud Zookeeper's
     * default root). An absolute ZooKeeper path without a trailing slash.
     */
    public Builder basePath(String basePath) {
      if (basePath == null) {
        throw new IllegalArgumentException("basePath must not be null");
      }
      try {
        PathUtils.validatePath(basePath);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "basePath must be an absolute ZooKeeper path like /services but was '"
                + basePath
                + "': "
                + e.getMessage(),
            e);
      }
      this.basePath = basePath;
      return this;
    }

    /**
     * Authenticates with ZooKeeper's digest scheme and creates service and instance nodes with an
     * ACL giving these credentials all rights and everyone else read access (watchers need no
     * credentials). Nodes above the services (the base path) get the open ACL.
     */
    public Builder digestAcl(String user, String password) {
      if (user == null || user.isBlank() || user.indexOf(':') >= 0) {
        throw new IllegalArgumentException(
            "digest user must not be blank or contain ':' but was "
                + (user == null ? "null" : "'" + user + "'"));
      }
      if (password == null || password.isEmpty()) {
        throw new IllegalArgumentException(
            "digest password must not be empty (user '" + user + "')");
      }
      this.digestUser = user;
      this.digestPassword = password;
      return this;
    }

    /**
     * How long ZooKeeper keeps the session, and so the instance nodes, of a registry it cannot hear
     * from; default 30 s. The server clamps it to between 2 and 20 of its ticks.
     */
    public Builder sessionTimeout(Duration sessionTimeout) {
      this.sessionTimeout = requireMillis(sessionTimeout, "sessionTimeout");
      return this;
    }

    /**
     * How long to wait for a connection before an operation fails; also bounds waits for fresh
     * reads and for shutdown. Default 10 s.
     */
    public Builder connectionTimeout(Duration connectionTimeout) {
      this.connectionTimeout = requireMillis(connectionTimeout, "connectionTimeout");
      return this;
    }

    /**
     * Builds the registry. With a connect string, starts its client without waiting for a
     * connection: {@link ZooKeeperRegistry#register} waits, watches start when connected.
     *
     * @throws IllegalStateException if neither or both of connect string and client are set, or a
     *     client is combined with credentials or timeouts
     */
    public ZooKeeperRegistry build() {
      if ((connectString == null) == (client == null)) {
        throw new IllegalStateException(
            "set exactly one of connectString and client (connectString: "
                + connectString
                + ", client: "
                + client
                + ")");
      }
      Duration connect = connectionTimeout == null ? DEFAULT_CONNECTION_TIMEOUT : connectionTimeout;
      if (client != null) {
        if (digestUser != null || sessionTimeout != null || connectionTimeout != null) {
          throw new IllegalStateException(
              "digestAcl, sessionTimeout and connectionTimeout configure the registry's own"
                  + " client; with client(...) set them on that client instead");
        }
        ZooKeeperRegistry registry =
            new ZooKeeperRegistry(
                client,
                false,
                basePath,
                client.getZookeeperClient().getCurrentConnectionString(),
                Duration.ofMillis(client.getZookeeperClient().getConnectionTimeoutMs()),
                null);
        registry.start();
        return registry;
      }
      String ensemble = Objects.requireNonNull(connectString);
      Duration session = sessionTimeout == null ? DEFAULT_SESSION_TIMEOUT : sessionTimeout;
      // Curator 5.9.0 never stops the executor it makes for recipe notifications ("runSafe",
      // apache/curator GH-1277), so we give it ours and stop it on close.
      ExecutorService notifier =
          Executors.newSingleThreadExecutor(
              runnable -> {
                Thread thread =
                    new Thread(
                        runnable, "switchboard-zookeeper-notify-" + NOTIFIER_IDS.incrementAndGet());
                thread.setDaemon(true);
                return thread;
              });
      CuratorFrameworkFactory.Builder curator =
          CuratorFrameworkFactory.builder()
              .connectString(ensemble)
              .runSafeService(notifier)
              .sessionTimeoutMs((int) session.toMillis())
              .connectionTimeoutMs((int) connect.toMillis())
              .retryPolicy(new ExponentialBackoffRetry(100, 3, 1_000));
      if (digestUser != null && digestPassword != null) {
        String credentials = digestUser + ":" + digestPassword;
        curator
            .authorization("digest", credentials.getBytes(StandardCharsets.UTF_8))
            .aclProvider(new DigestAclProvider(basePath, credentials));
      }
      CuratorFramework own = curator.build();
      ZooKeeperRegistry registry =
          new ZooKeeperRegistry(own, true, basePath, ensemble, connect, notifier);
      registry.start();
      own.start();
      return registry;
    }

    private static Duration requireMillis(@Nullable Duration value, String field) {
      if (value == null
          || value.isNegative()
          || value.isZero()
          || value.compareTo(Duration.ofMillis(Integer.MAX_VALUE)) > 0) {
        throw new IllegalArgumentException(
            field + " must be positive and at most " + Integer.MAX_VALUE + " ms but was " + value);
      }
      return value;
    }
  }
}
