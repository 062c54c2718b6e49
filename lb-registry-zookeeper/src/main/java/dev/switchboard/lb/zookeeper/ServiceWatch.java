package dev.switchboard.lb.zookeeper;

import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.recipes.cache.ChildData;
import org.apache.curator.framework.recipes.cache.CuratorCache;
import org.apache.curator.framework.recipes.cache.CuratorCacheListener;
import org.apache.curator.framework.recipes.cache.CuratorCacheStorage;
import org.apache.curator.utils.ZKPaths;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * One watch
 * ---------
 * A CuratorCache (persistent recursive watch, ZooKeeper 3.6+) on /{base}/{service} feeds a
 * MemberTable; after each change that alters the well-formed members, the whole list goes to the
 * listener. The cache keeps no node data (we keep decoded instances instead), so a 1 MB junk node
 * costs memory only while it is decoded.
 *
 * - Keep-last-known: the cache never clears itself on disconnection and neither do we. When the
 *   connection goes down the listener hears onError once; members stay as they were.
 * - Reconciliation: after a reconnection the registry calls refresh(), a fresh read of the service
 *   node and its children, merged by zxid; its result is delivered even when unchanged, which ends
 *   the listener's degraded state. (The cache also rebuilds itself, but reports nothing when
 *   nothing changed, and compares only data versions.)
 * - Deletions are confirmed with a read before they are delivered. An instance that atomically
 *   replaces its own stale node (delete + create in one transaction, see EphemeralNode) reaches the
 *   cache as a deletion then a creation; the confirming read already sees the new node, so the
 *   member never blinks out of the snapshot.
 *
 * Listener calls happen under this watch's lock, from Curator's notification thread, the
 * ZooKeeper event thread, the registry's worker or the connection-state thread, never two at once.
 */

/** A watch on one service's members. Thread-safe. */
final class ServiceWatch implements Subscription {
  private static final Logger logger = LoggerFactory.getLogger(ServiceWatch.class);

  private final CuratorFramework client;
  private final String service;
  private final String servicePath;
  private final MembershipListener listener;
  private final Duration readTimeout;
  private final Consumer<ServiceWatch> onClose;
  private final CuratorCache cache;
  private final CuratorCacheListener cacheListener =
      new CuratorCacheListener() {
        @Override
        public void event(Type type, ChildData oldData, ChildData data) {
          onCacheEvent(type, oldData, data);
        }

        @Override
        public void initialized() {
          onInitialized();
        }
      };
  private final Object lock = new Object();
  private final AtomicBoolean closing = new AtomicBoolean();

  // Guarded by lock.
  private final MemberTable table;
  private boolean initialized;
  private boolean degraded;
  private boolean closed;
  private @Nullable List<ServiceInstance> delivered;

  ServiceWatch(
      CuratorFramework client,
      String service,
      String servicePath,
      MembershipListener listener,
      InstanceCodec codec,
      Duration readTimeout,
      Consumer<ServiceWatch> onClose) {
    this.client = client;
    this.service = service;
    this.servicePath = servicePath;
    this.listener = listener;
    this.readTimeout = readTimeout;
    this.onClose = onClose;
    this.table = new MemberTable(service, servicePath, codec);
    this.cache =
        CuratorCache.builder(client, servicePath)
            .withStorage(CuratorCacheStorage.dataNotCached())
            .withExceptionHandler(this::cacheFailed)
            .build();
  }

  void start() {
    cache.listenable().addListener(cacheListener);
    cache.start();
  }

  /** How many malformed-node warnings this watch logged. */
  long malformedWarnings() {
    synchronized (lock) {
      return table.malformedWarnings();
    }
  }

  /** The connection is down: members stay, the listener hears it once. */
  void connectionDown(ConnectionMonitor.Phase phase) {
    synchronized (lock) {
      if (closed || degraded) {
        return;
      }
      degraded = true;
      int known = delivered == null ? 0 : delivered.size();
      RegistryException error =
          new RegistryException(
              "ZooKeeper connection "
                  + phase
                  + "; keeping the "
                  + known
                  + " last known members of service '"
                  + service
                  + "' until it returns");
      try {
        listener.onError(error);
      } catch (RuntimeException e) {
        logger.warn("Membership listener of service '{}' threw on onError; ignored", service, e);
      }
    }
  }

  /**
   * Reads the service node's children afresh and delivers the result, even if unchanged. Blocks for
   * a few round trips; called on the registry's worker after a reconnection.
   */
  void refresh() {
    if (closing.get()) {
      return;
    }
    try {
      Stat parent = new Stat();
      List<String> names;
      long pzxid;
      try {
        names = client.getChildren().storingStatIn(parent).forPath(servicePath);
        pzxid = parent.getPzxid();
      } catch (KeeperException.NoNodeException e) {
        names = List.of();
        pzxid = Long.MAX_VALUE;
      }
      Map<String, MemberTable.NodeRead> reads = new ConcurrentHashMap<>();
      AtomicBoolean failed = new AtomicBoolean();
      CountDownLatch done = new CountDownLatch(names.size());
      for (String name : names) {
        client
            .getData()
            .inBackground(
                (c, event) -> {
                  int rc = event.getResultCode();
                  if (rc == KeeperException.Code.OK.intValue()) {
                    reads.put(name, new MemberTable.NodeRead(event.getStat(), event.getData()));
                  } else if (rc != KeeperException.Code.NONODE.intValue()) {
                    failed.set(true);
                  }
                  done.countDown();
                })
            .forPath(ZKPaths.makePath(servicePath, name));
      }
      if (!done.await(readTimeout.toMillis(), TimeUnit.MILLISECONDS) || failed.get()) {
        logger.debug("Fresh read of {} incomplete; the next reconnection retries", servicePath);
        return;
      }
      synchronized (lock) {
        if (closed) {
          return;
        }
        table.reconcile(reads, pzxid);
        publish(true);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      logger.debug("Fresh read of {} failed; the next reconnection retries", servicePath, e);
    }
  }

  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return;
    }
    synchronized (lock) {
      closed = true;
    }
    cache.close();
    // Curator 5.9.0's PersistentWatcher leaves a listener on the client after close (apache/curator
    // GH-1292) that keeps the closed cache reachable; unhooking ours keeps this watch (and the
    // caller's listener) out of that chain.
    cache.listenable().removeListener(cacheListener);
    onClose.accept(this);
  }

  private void onCacheEvent(
      CuratorCacheListener.Type type, @Nullable ChildData oldData, @Nullable ChildData data) {
    ChildData node = data != null ? data : oldData;
    if (node == null) {
      return;
    }
    String name = childName(node.getPath());
    if (name == null) {
      return; // the service node itself, or deeper
    }
    if (type == CuratorCacheListener.Type.NODE_DELETED) {
      confirmDeletion(name, node);
      return;
    }
    synchronized (lock) {
      if (!closed && table.upsert(name, node.getStat(), node.getData())) {
        publish(false);
      }
    }
  }

  private void confirmDeletion(String name, ChildData gone) {
    long czxid = gone.getStat().getCzxid();
    try {
      client
          .getData()
          .inBackground(
              (c, event) -> {
                synchronized (lock) {
                  if (closed) {
                    return;
                  }
                  boolean changed =
                      event.getResultCode() == KeeperException.Code.OK.intValue()
                          ? table.upsert(name, event.getStat(), event.getData())
                          : table.remove(name, czxid);
                  if (changed) {
                    publish(false);
                  }
                }
              })
          .forPath(gone.getPath());
    } catch (Exception e) {
      synchronized (lock) {
        if (!closed && table.remove(name, czxid)) {
          publish(false);
        }
      }
    }
  }

  private void onInitialized() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      initialized = true;
      publish(true);
    }
  }

  /** Delivers the members if they changed, or anyway if {@code always}. Holds the lock. */
  private void publish(boolean always) {
    if (!initialized || closed) {
      return;
    }
    List<ServiceInstance> members = table.members();
    if (!always && !degraded && members.equals(delivered)) {
      return;
    }
    delivered = members;
    degraded = false;
    try {
      listener.onMembers(members);
    } catch (RuntimeException e) {
      logger.warn("Membership listener of service '{}' threw; ignored", service, e);
    }
  }

  private void cacheFailed(Exception e) {
    if (e instanceof KeeperException.NoAuthException) {
      logger.warn(
          "Not authorised to read {} (service '{}'); its members may be incomplete",
          servicePath,
          service);
    } else {
      logger.debug("Watch of {} hit an error; the cache retries", servicePath, e);
    }
  }

  private @Nullable String childName(String path) {
    int prefix = servicePath.length();
    if (path.length() <= prefix + 1
        || !path.startsWith(servicePath)
        || path.charAt(prefix) != '/'
        || path.indexOf('/', prefix + 1) >= 0) {
      return null;
    }
    return path.substring(prefix + 1);
  }

  @Override
  public String toString() {
    return "ServiceWatch[" + servicePath + "]";
  }
}
