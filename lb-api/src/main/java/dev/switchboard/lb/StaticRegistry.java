package dev.switchboard.lb;

import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import dev.switchboard.lb.ServiceRegistry.Registration;
import dev.switchboard.lb.ServiceRegistry.Subscription;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CopyOnWriteArrayList;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A registry held in memory: for fixed host lists, tests and development. Members can be added,
 * removed and drained at runtime; every change pushes a fresh snapshot to the service's watchers on
 * the thread that made the change.
 *
 * <p>Thread-safe. Listeners are called outside the registry's lock, never concurrently for one
 * subscription, and never with an older snapshot after a newer one.
 */
public final class StaticRegistry implements ServiceRegistry {
  private static final Logger logger = LoggerFactory.getLogger(StaticRegistry.class);

  private final Object lock = new Object();
  // service -> (id -> instance), in insertion order
  private final Map<String, Map<String, ServiceInstance>> services = new LinkedHashMap<>();
  private final Map<String, Long> versions = new LinkedHashMap<>();
  private final List<StaticSubscription> subscriptions = new CopyOnWriteArrayList<>();
  private boolean closed;

  /** Returns an empty registry. */
  public StaticRegistry() {}

  /** Returns a registry holding {@code instances}. */
  public static StaticRegistry of(ServiceInstance... instances) {
    StaticRegistry registry = new StaticRegistry();
    for (ServiceInstance instance : instances) {
      registry.add(instance);
    }
    return registry;
  }

  /** Adds {@code instance}, or replaces the member with the same service and id. */
  public void add(ServiceInstance instance) {
    Objects.requireNonNull(instance, "instance");
    synchronized (lock) {
      checkOpen();
      services
          .computeIfAbsent(instance.service(), s -> new LinkedHashMap<>())
          .put(instance.id(), instance);
      bump(instance.service());
    }
    publish(instance.service());
  }

  /** Removes the member {@code id} of {@code service}; returns whether it was present. */
  public boolean remove(String service, String id) {
    boolean removed;
    synchronized (lock) {
      checkOpen();
      Map<String, ServiceInstance> members = services.get(service);
      removed = members != null && members.remove(id) != null;
      if (removed) {
        bump(service);
      }
    }
    if (removed) {
      publish(service);
    }
    return removed;
  }

  /**
   * Marks the member {@code id} of {@code service} draining.
   *
   * @throws IllegalArgumentException if no such member is registered
   */
  public void drain(String service, String id) {
    synchronized (lock) {
      checkOpen();
      Map<String, ServiceInstance> members = services.get(service);
      ServiceInstance current = members == null ? null : members.get(id);
      if (current == null) {
        throw new IllegalArgumentException(
            "no member '" + id + "' of service '" + service + "' to drain");
      }
      members.put(id, current.withDraining(true));
      bump(service);
    }
    publish(service);
  }

  /** Replaces every member of {@code service} with {@code instances} (which may be empty). */
  public void set(String service, List<ServiceInstance> instances) {
    Map<String, ServiceInstance> members = new LinkedHashMap<>();
    for (ServiceInstance instance : instances) {
      if (!instance.service().equals(service)) {
        throw new IllegalArgumentException(
            "instance "
                + instance.id()
                + " belongs to '"
                + instance.service()
                + "', not '"
                + service
                + "'");
      }
      members.put(instance.id(), instance);
    }
    synchronized (lock) {
      checkOpen();
      services.put(service, members);
      bump(service);
    }
    publish(service);
  }

  /** The current members of {@code service}. */
  public List<ServiceInstance> members(String service) {
    synchronized (lock) {
      Map<String, ServiceInstance> members = services.get(service);
      return members == null ? List.of() : List.copyOf(members.values());
    }
  }

  @Override
  public Registration register(ServiceInstance instance) {
    add(instance);
    return new StaticRegistration(instance);
  }

  @Override
  public Subscription watch(String service, MembershipListener listener) {
    Objects.requireNonNull(service, "service");
    Objects.requireNonNull(listener, "listener");
    StaticSubscription subscription = new StaticSubscription(service, listener);
    synchronized (lock) {
      checkOpen();
      subscriptions.add(subscription);
    }
    publish(service);
    return subscription;
  }

  @Override
  public void close() {
    synchronized (lock) {
      closed = true;
      services.clear();
    }
    subscriptions.clear();
  }

  private void checkOpen() {
    if (closed) {
      throw new IllegalStateException("registry is closed");
    }
  }

  private void bump(String service) {
    versions.merge(service, 1L, Long::sum);
  }

  private void publish(String service) {
    List<ServiceInstance> snapshot;
    long version;
    synchronized (lock) {
      Map<String, ServiceInstance> members = services.get(service);
      snapshot = members == null ? List.of() : List.copyOf(members.values());
      version = versions.getOrDefault(service, 0L);
    }
    for (StaticSubscription subscription : subscriptions) {
      if (subscription.service.equals(service)) {
        subscription.deliver(version, snapshot);
      }
    }
  }

  private final class StaticSubscription implements Subscription {
    final String service;
    final MembershipListener listener;
    private long delivered = -1;
    private boolean cancelled;

    StaticSubscription(String service, MembershipListener listener) {
      this.service = service;
      this.listener = listener;
    }

    synchronized void deliver(long version, List<ServiceInstance> snapshot) {
      if (cancelled || version <= delivered) {
        return;
      }
      delivered = version;
      try {
        listener.onMembers(snapshot);
      } catch (RuntimeException e) {
        logger.warn("Membership listener of service '{}' threw; ignored", service, e);
      }
    }

    @Override
    public void close() {
      synchronized (this) {
        cancelled = true;
      }
      subscriptions.remove(this);
    }
  }

  private final class StaticRegistration implements Registration {
    private final String service;
    private final String id;
    private volatile ServiceInstance instance;
    private volatile boolean closed;

    StaticRegistration(ServiceInstance instance) {
      this.service = instance.service();
      this.id = instance.id();
      this.instance = instance;
    }

    @Override
    public ServiceInstance instance() {
      return instance;
    }

    @Override
    public void drain() {
      if (closed) {
        throw new IllegalStateException("registration of " + id + " is closed");
      }
      StaticRegistry.this.drain(service, id);
      instance = instance.withDraining(true);
    }

    @Override
    public void close() {
      if (closed) {
        return;
      }
      closed = true;
      synchronized (lock) {
        if (StaticRegistry.this.closed) {
          return;
        }
      }
      remove(service, id);
    }
  }

  @Override
  public String toString() {
    List<String> names;
    synchronized (lock) {
      names = new ArrayList<>(services.keySet());
    }
    return "StaticRegistry" + names;
  }
}
