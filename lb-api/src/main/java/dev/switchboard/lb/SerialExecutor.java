package dev.switchboard.lb;

import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicReference;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs tasks one at a time, in submission order, on whichever thread submitted while no other
 * thread was draining; it has no thread of its own (grpc-java's {@code SynchronizationContext}).
 * All of a cluster's state changes run here, so that state needs no locks.
 *
 * <p>Thread-safe. A task that throws is logged and does not stop later tasks.
 */
final class SerialExecutor implements Executor {
  private static final Logger logger = LoggerFactory.getLogger(SerialExecutor.class);

  private final Queue<Runnable> queue = new ConcurrentLinkedQueue<>();
  private final AtomicReference<Thread> drainingThread = new AtomicReference<>();

  @Override
  public void execute(Runnable task) {
    queue.add(task);
    drain();
  }

  private void drain() {
    do {
      if (!drainingThread.compareAndSet(null, Thread.currentThread())) {
        return;
      }
      try {
        Runnable task;
        while ((task = queue.poll()) != null) {
          try {
            task.run();
          } catch (RuntimeException | Error e) {
            logger.error("Cluster state task failed; the cluster carries on", e);
          }
        }
      } finally {
        drainingThread.set(null);
      }
      // A task added after the poll above but before the release would be stranded: look again.
    } while (!queue.isEmpty());
  }

  /** Whether the calling thread is the one running tasks now. */
  boolean isCurrentThread() {
    return drainingThread.get() == Thread.currentThread();
  }

  /** Throws unless called from a task of this executor. */
  void throwIfNotInThisExecutor() {
    if (!isCurrentThread()) {
      throw new IllegalStateException("not called from the cluster's serial executor");
    }
  }
}
