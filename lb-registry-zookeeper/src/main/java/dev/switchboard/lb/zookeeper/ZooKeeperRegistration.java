package dev.switchboard.lb.zookeeper;

import dev.switchboard.lb.RegistryException;
import dev.switchboard.lb.ServiceInstance;
import dev.switchboard.lb.ServiceRegistry.Registration;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/** One instance registered as an ephemeral node. Thread-safe. */
final class ZooKeeperRegistration implements Registration {
  private final EphemeralNode node;
  private final InstanceCodec codec;
  private final long registrationTimeUtc;
  private final Duration closeTimeout;
  private final Consumer<ZooKeeperRegistration> onClose;
  private final AtomicBoolean closed = new AtomicBoolean();
  private final Object lock = new Object();
  private volatile ServiceInstance instance;

  ZooKeeperRegistration(
      ServiceInstance instance,
      EphemeralNode node,
      InstanceCodec codec,
      long registrationTimeUtc,
      Duration closeTimeout,
      Consumer<ZooKeeperRegistration> onClose) {
    this.closeTimeout = closeTimeout;
    this.instance = instance;
    this.node = node;
    this.codec = codec;
    this.registrationTimeUtc = registrationTimeUtc;
    this.onClose = onClose;
  }

  EphemeralNode node() {
    return node;
  }

  @Override
  public ServiceInstance instance() {
    return instance;
  }

  @Override
  public void drain() {
    synchronized (lock) {
      if (closed.get()) {
        throw new IllegalStateException("registration of " + instance.id() + " is closed");
      }
      ServiceInstance draining = instance.withDraining(true);
      try {
        node.update(codec.encode(draining, registrationTimeUtc));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RegistryException("interrupted while draining " + node.path(), e);
      } catch (Exception e) {
        throw new RegistryException(
            "could not mark " + node.path() + " draining: " + ZooKeeperRegistry.describe(e), e);
      }
      instance = draining;
    }
  }

  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    node.close(closeTimeout);
    onClose.accept(this);
  }

  @Override
  public String toString() {
    return "ZooKeeperRegistration[" + node.path() + (instance.draining() ? ", draining]" : "]");
  }
}
