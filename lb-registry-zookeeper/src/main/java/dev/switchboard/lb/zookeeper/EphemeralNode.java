package dev.switchboard.lb.zookeeper;

import java.time.Duration;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.WatcherRemoveCuratorFramework;
import org.apache.curator.framework.api.CuratorWatcher;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.data.Stat;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Keeping one ephemeral node alive
 * --------------------------------
 * Modelled on Curator's PersistentNode (create, watch the node, create again when it goes or the
 * connection comes back), with two differences:
 *
 * - A node still owned by one of this registry's dead sessions (the client saw its session expire
 *   but the server has not yet, or a server restarted from its snapshot) is replaced at once, in one
 *   multi-op transaction (delete + create), not left until the server expires it. Watchers see one
 *   change instead of the member vanishing and returning.
 * - At registration, a node owned by any other session is replaced the same way, as x-discovery's
 *   ServiceDiscoveryImpl does (a process restarted within its old session's timeout). Later, a node
 *   owned by a live foreign session is left alone and ours is created when it goes; taking over
 *   again would let two processes with one id steal the node from each other forever.
 *
 * ensure() is synchronous; it runs on the registering thread, then on the registry's worker for
 * watch events and reconnections, never concurrently with itself for one node.
 */

/** One registration's ephemeral node, re-created whenever it goes. Thread-safe. */
final class EphemeralNode {
  private static final Logger logger = LoggerFactory.getLogger(EphemeralNode.class);
  private static final int ATTEMPTS = 5;

  private final WatcherRemoveCuratorFramework client;
  private final String path;
  private final ConnectionMonitor monitor;
  private final Executor worker;
  private final Object lock = new Object();
  private final AtomicBoolean closed = new AtomicBoolean();
  private final CuratorWatcher watcher = this::nodeEvent;
  private volatile byte[] data;
  private volatile long loggedForeignOwner;

  EphemeralNode(
      CuratorFramework client,
      String path,
      byte[] data,
      ConnectionMonitor monitor,
      Executor worker) {
    this.client = client.newWatcherRemoveCuratorFramework();
    this.path = path;
    this.data = data.clone();
    this.monitor = monitor;
    this.worker = worker;
  }

  String path() {
    return path;
  }

  /**
   * Creates the node, or replaces a node another session holds at its path.
   *
   * @throws Exception from ZooKeeper when it refused or could not be reached
   */
  void create() throws Exception {
    ensure(true);
  }

  /**
   * Writes {@code newData}, now and whenever the node is re-created.
   *
   * @throws Exception from ZooKeeper when it refused or could not be reached
   */
  void update(byte[] newData) throws Exception {
    data = newData.clone();
    ensure(false);
  }

  /** Re-checks the node after a reconnection; logs instead of throwing. */
  void ensureQuietly() {
    try {
      ensure(false);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      logger.warn(
          "Could not re-create {} yet ({}); retrying on the next reconnection", path, e.toString());
    }
  }

  /**
   * Stops keeping the node and deletes it if this session owns it, waiting at most {@code timeout}
   * for ZooKeeper to confirm when connected, not at all when not. A deletion still pending is left
   * to Curator's guaranteed delete (and to the session's end).
   */
  void close(Duration timeout) {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    client.removeWatchers();
    boolean connected = client.getZookeeperClient().isConnected();
    CountDownLatch done = new CountDownLatch(1);
    synchronized (lock) {
      try {
        long session = session();
        client
            .checkExists()
            .inBackground(
                (c, event) -> {
                  Stat stat = event.getStat();
                  if (stat == null || stat.getEphemeralOwner() != session) {
                    done.countDown(); // gone, or not ours to delete
                    return;
                  }
                  client
                      .delete()
                      .guaranteed()
                      .withVersion(stat.getVersion())
                      .inBackground((c2, deleted) -> done.countDown())
                      .forPath(path);
                })
            .forPath(path);
      } catch (Exception e) {
        logger.warn("Could not delete {} on close: {}", path, e.toString());
        return;
      }
    }
    try {
      if (!done.await(connected ? timeout.toMillis() : 0, TimeUnit.MILLISECONDS)) {
        logger.warn(
            "ZooKeeper did not confirm deleting {} within {}; it goes when the session ends",
            path,
            timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void ensure(boolean takeOverForeign) throws Exception {
    synchronized (lock) {
      for (int attempt = 0; attempt < ATTEMPTS; attempt++) {
        if (closed.get()) {
          return;
        }
        byte[] wanted = data;
        Stat stat = client.checkExists().usingWatcher(watcher).forPath(path);
        if (stat == null) {
          try {
            client
                .create()
                .creatingParentContainersIfNeeded()
                .withMode(CreateMode.EPHEMERAL)
                .forPath(path, wanted);
          } catch (KeeperException.NodeExistsException e) {
            // someone was faster: look again
          }
          continue; // look again, which also watches the new node
        }
        long owner = stat.getEphemeralOwner();
        if (owner == session()) {
          Stat current = new Stat();
          byte[] stored = client.getData().storingStatIn(current).forPath(path);
          if (Arrays.equals(stored, wanted)) {
            return;
          }
          try {
            client.setData().withVersion(current.getVersion()).forPath(path, wanted);
            return;
          } catch (KeeperException.BadVersionException | KeeperException.NoNodeException e) {
            continue;
          }
        }
        if (takeOverForeign || monitor.isPreviousSession(owner)) {
          try {
            client
                .transaction()
                .forOperations(
                    client.transactionOp().delete().withVersion(stat.getVersion()).forPath(path),
                    client
                        .transactionOp()
                        .create()
                        .withMode(CreateMode.EPHEMERAL)
                        .forPath(path, wanted));
            logger.info(
                "Replaced {} held by {} session 0x{}",
                path,
                monitor.isPreviousSession(owner) ? "our expired" : "another",
                Long.toHexString(owner));
          } catch (KeeperException.BadVersionException
              | KeeperException.NoNodeException
              | KeeperException.NodeExistsException e) {
            // changed under us: look again
          }
          continue;
        }
        if (loggedForeignOwner != owner) {
          loggedForeignOwner = owner;
          logger.info(
              "{} is held by another live session 0x{}; ours is created when it goes",
              path,
              Long.toHexString(owner));
        }
        return;
      }
      throw new IllegalStateException(
          path + " kept changing under us; gave up after " + ATTEMPTS + " attempts");
    }
  }

  /** The client's current session; read from the handle, as the monitor may not have heard yet. */
  private long session() throws Exception {
    return client.getZookeeperClient().getZooKeeper().getSessionId();
  }

  private void nodeEvent(WatchedEvent event) {
    if (closed.get() || event.getType() == Watcher.Event.EventType.None) {
      return;
    }
    try {
      worker.execute(this::ensureQuietly);
    } catch (RejectedExecutionException e) {
      // the registry is closing
    }
  }

  @Override
  public String toString() {
    return "EphemeralNode[" + path + "]";
  }
}
