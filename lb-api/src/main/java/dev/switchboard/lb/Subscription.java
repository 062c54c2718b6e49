package dev.switchboard.lb;

/** A watch on one service's members. Closing it stops notifications; idempotent. Thread-safe. */
public interface Subscription extends AutoCloseable {

  /** Stops notifications to the listener; idempotent. */
  @Override
  void close();
}
