package dev.switchboard.lb.zookeeper;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.framework.state.ConnectionStateListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Connection state machine
 * ------------------------
 * Curator reports CONNECTED once, then SUSPENDED (connection lost, session maybe alive), LOST (the
 * session expired, or stayed suspended past the session timeout, in which case Curator 5 expires it
 * itself) and RECONNECTED. We fold that into one phase per registry and log every transition:
 *
 *   CONNECTING --> CONNECTED --> SUSPENDED --> LOST
 *                     ^             |           |
 *                     +-------------+-----------+   (RECONNECTED: same session or a new one)
 *
 * While SUSPENDED or LOST, watches keep their last known members and tell their listeners once
 * (onError). On reconnection the registry re-creates its ephemeral nodes first, then re-reads every
 * watched service, so a watcher in the same process never misses its own instances.
 *
 * Session expiry is the classic way to lose registrations (apache/curator #685, #702; apache/dubbo
 * #7065, #10181): the old session's ephemeral nodes vanish, or linger until the server expires
 * them. We remember every session id this registry held, so a node still owned by one of our dead
 * sessions is replaced at once instead of waiting for the server to expire it.
 */

/** Tracks and logs one client's connection state. Thread-safe. */
final class ConnectionMonitor implements ConnectionStateListener {
  private static final Logger logger = LoggerFactory.getLogger(ConnectionMonitor.class);

  /** The registry's view of its ZooKeeper connection. */
  enum Phase {
    /** Not connected yet. */
    CONNECTING,
    /** Connected; registrations are in place and watches are live. */
    CONNECTED,
    /** Connection lost; the session may still be alive. Watches keep their last known members. */
    SUSPENDED,
    /** Session expired or timed out; ephemeral nodes are gone or going. Watches keep members. */
    LOST,
    /** The registry is closed. */
    CLOSED
  }

  /** What the registry does on transitions; called on Curator's connection-state thread. */
  interface Transitions {
    /** The connection is down ({@link Phase#SUSPENDED} or {@link Phase#LOST}). */
    void disconnected(Phase phase);

    /** Connected again after being down; {@code newSession} if the old session is gone. */
    void reconnected(boolean newSession);
  }

  private final String ensemble;
  private final Transitions transitions;
  private final Set<Long> previousSessions = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private volatile Phase phase = Phase.CONNECTING;
  private volatile long sessionId;

  ConnectionMonitor(String ensemble, Transitions transitions) {
    this.ensemble = ensemble;
    this.transitions = transitions;
  }

  /** For a client that may already be connected when we start listening. */
  void attach(CuratorFramework client) {
    if (client.getZookeeperClient().isConnected()) {
      synchronized (lock) {
        sessionId = currentSession(client);
        phase = Phase.CONNECTED;
      }
      logger.info(
          "Using ZooKeeper {}: already connected (session 0x{})",
          ensemble,
          Long.toHexString(sessionId));
    }
  }

  Phase phase() {
    return phase;
  }

  /** The id of the current session, 0 before the first connection. */
  long sessionId() {
    return sessionId;
  }

  /** Whether {@code owner} is a session this registry held before its current one. */
  boolean isPreviousSession(long owner) {
    return owner != 0 && previousSessions.contains(owner);
  }

  void closed() {
    Phase from;
    synchronized (lock) {
      from = phase;
      phase = Phase.CLOSED;
    }
    logger.info("ZooKeeper {}: {} -> CLOSED", ensemble, from);
  }

  @Override
  public void stateChanged(CuratorFramework client, ConnectionState newState) {
    switch (newState) {
      case CONNECTED, RECONNECTED -> connected(client);
      case SUSPENDED -> disconnected(Phase.SUSPENDED);
      case LOST -> disconnected(Phase.LOST);
      case READ_ONLY ->
          logger.warn(
              "ZooKeeper {}: connected read-only to a server outside the quorum; registrations"
                  + " cannot be written until the quorum returns",
              ensemble);
    }
  }

  private void connected(CuratorFramework client) {
    long session = currentSession(client);
    Phase from;
    boolean newSession;
    long previous;
    synchronized (lock) {
      from = phase;
      if (from == Phase.CLOSED) {
        return;
      }
      newSession = session != sessionId;
      previous = sessionId;
      if (newSession && previous != 0) {
        previousSessions.add(previous);
      }
      sessionId = session;
      phase = Phase.CONNECTED;
    }
    if (from == Phase.CONNECTING) {
      logger.info(
          "ZooKeeper {}: CONNECTING -> CONNECTED (session 0x{})",
          ensemble,
          Long.toHexString(session));
      return;
    }
    if (from == Phase.CONNECTED && !newSession) {
      return; // a duplicate notification
    }
    logger.info(
        "ZooKeeper {}: {} -> CONNECTED ({} 0x{}); re-registering instances and re-reading watched"
            + " services",
        ensemble,
        from,
        previous == 0 ? "first session" : newSession ? "new session" : "same session",
        Long.toHexString(session));
    transitions.reconnected(newSession);
  }

  private void disconnected(Phase to) {
    Phase from;
    synchronized (lock) {
      from = phase;
      if (from == Phase.CLOSED || from == to) {
        return;
      }
      phase = to;
    }
    if (sessionId == 0) {
      logger.warn("ZooKeeper {}: {} -> {} (not connected yet)", ensemble, from, to);
    } else if (to == Phase.SUSPENDED) {
      logger.warn(
          "ZooKeeper {}: {} -> SUSPENDED (connection lost, session 0x{} may survive); keeping last"
              + " known members",
          ensemble,
          from,
          Long.toHexString(sessionId));
    } else {
      logger.warn(
          "ZooKeeper {}: {} -> LOST (session 0x{} expired or timed out; its ephemeral nodes are"
              + " gone or going); keeping last known members, registrations will be re-created on"
              + " reconnection",
          ensemble,
          from,
          Long.toHexString(sessionId));
    }
    transitions.disconnected(to);
  }

  private static long currentSession(CuratorFramework client) {
    try {
      return client.getZookeeperClient().getZooKeeper().getSessionId();
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      return 0;
    }
  }
}
