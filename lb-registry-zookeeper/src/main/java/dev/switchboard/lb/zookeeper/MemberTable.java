package dev.switchboard.lb.zookeeper;

import dev.switchboard.lb.ServiceInstance;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.zookeeper.data.Stat;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * Why zxids
 * ---------
 * Members arrive by three paths that can overtake each other: CuratorCache events, a read that
 * confirms a deletion, and the fresh read after a reconnection. Every ZooKeeper change has a
 * transaction id (zxid); a node's mzxid only grows, also across a delete and re-create. So each
 * entry keeps the czxid/mzxid it was read at and older news never replaces newer, which makes the
 * merge order-independent.
 *
 * A node is decoded once per version: re-reads of an unchanged node (cache rebuilds, fresh reads)
 * neither decode it again nor warn again.
 */

/** The members of one watched service, by node name. Not thread-safe; guarded by its watch. */
final class MemberTable {
  private static final Logger logger = LoggerFactory.getLogger(MemberTable.class);

  /** A node's data and stat, as one read returned them. */
  record NodeRead(Stat stat, byte @Nullable [] data) {}

  private record Entry(long czxid, long mzxid, @Nullable ServiceInstance instance) {}

  private final String service;
  private final String servicePath;
  private final InstanceCodec codec;
  private final Map<String, Entry> entries = new HashMap<>();
  private long malformedWarnings;

  MemberTable(String service, String servicePath, InstanceCodec codec) {
    this.service = service;
    this.servicePath = servicePath;
    this.codec = codec;
  }

  /** Applies node {@code name} as read; returns whether the members changed. */
  boolean upsert(String name, Stat stat, byte @Nullable [] data) {
    Entry current = entries.get(name);
    if (current != null && current.mzxid >= stat.getMzxid()) {
      return false; // not newer than what we hold
    }
    ServiceInstance instance = decode(name, data);
    entries.put(name, new Entry(stat.getCzxid(), stat.getMzxid(), instance));
    return !Objects.equals(current == null ? null : current.instance, instance);
  }

  /**
   * Node {@code name}, created at {@code czxid}, is gone; keeps a newer incarnation. Returns
   * whether the members changed.
   */
  boolean remove(String name, long czxid) {
    Entry current = entries.get(name);
    if (current == null || current.czxid > czxid) {
      return false;
    }
    entries.remove(name);
    return current.instance != null;
  }

  /**
   * Applies a full read of the service node: its children as read, and the pzxid (last change to
   * the list of children) the list was read at. Entries missing from the read are dropped unless
   * created after it. Returns whether the members changed.
   */
  boolean reconcile(Map<String, NodeRead> children, long pzxid) {
    boolean changed = false;
    for (Iterator<Map.Entry<String, Entry>> it = entries.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Entry> e = it.next();
      if (!children.containsKey(e.getKey()) && e.getValue().czxid <= pzxid) {
        it.remove();
        changed |= e.getValue().instance != null;
      }
    }
    for (Map.Entry<String, NodeRead> e : children.entrySet()) {
      changed |= upsert(e.getKey(), e.getValue().stat(), e.getValue().data());
    }
    return changed;
  }

  /** The well-formed members, ordered by id. */
  List<ServiceInstance> members() {
    List<ServiceInstance> members = new ArrayList<>(entries.size());
    for (Entry e : entries.values()) {
      if (e.instance != null) {
        members.add(e.instance);
      }
    }
    members.sort(Comparator.comparing(ServiceInstance::id));
    return List.copyOf(members);
  }

  /** How many malformed-node warnings this table logged. */
  long malformedWarnings() {
    return malformedWarnings;
  }

  private @Nullable ServiceInstance decode(String name, byte @Nullable [] data) {
    try {
      return codec.decode(service, name, data);
    } catch (InstanceCodec.MalformedNodeException e) {
      malformedWarnings++;
      logger.warn(
          "Skipping malformed node {}/{} of service '{}' ({} bytes): {}",
          servicePath,
          name,
          service,
          data == null ? 0 : data.length,
          e.getMessage());
      return null;
    }
  }
}
