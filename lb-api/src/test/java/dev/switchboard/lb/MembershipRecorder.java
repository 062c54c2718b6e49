package dev.switchboard.lb;

import static org.awaitility.Awaitility.await;

import dev.switchboard.lb.ServiceRegistry.MembershipListener;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Predicate;
import java.util.stream.Collectors;

/**
 * Records every snapshot and error a watch delivers, with the time it arrived: a test fixture for
 * registry implementations. Thread-safe.
 */
public final class MembershipRecorder implements MembershipListener {
  /** One delivery. */
  public record Snapshot(long nanos, List<ServiceInstance> members) {
    public Set<String> ids() {
      return members.stream().map(ServiceInstance::id).collect(Collectors.toSet());
    }
  }

  private final List<Snapshot> snapshots = new CopyOnWriteArrayList<>();
  private final List<Throwable> errors = new CopyOnWriteArrayList<>();
  private final java.util.concurrent.atomic.AtomicInteger confirmations =
      new java.util.concurrent.atomic.AtomicInteger();
  private final AtomicBoolean inCall = new AtomicBoolean();
  private volatile boolean overlapped;

  @Override
  public void onMembers(List<ServiceInstance> members) {
    enter();
    try {
      snapshots.add(new Snapshot(System.nanoTime(), members));
    } finally {
      inCall.set(false);
    }
  }

  @Override
  public void onError(Throwable error) {
    enter();
    try {
      errors.add(error);
    } finally {
      inCall.set(false);
    }
  }

  @Override
  public void onConfirmed() {
    enter();
    try {
      confirmations.incrementAndGet();
    } finally {
      inCall.set(false);
    }
  }

  /** How many times the registry confirmed unchanged members. */
  public int confirmations() {
    return confirmations.get();
  }

  private void enter() {
    if (!inCall.compareAndSet(false, true)) {
      overlapped = true;
    }
  }

  public List<Snapshot> snapshots() {
    return List.copyOf(snapshots);
  }

  public int size() {
    return snapshots.size();
  }

  public List<Throwable> errors() {
    return List.copyOf(errors);
  }

  /** Whether the listener was ever called while already in a call. */
  public boolean overlapped() {
    return overlapped;
  }

  /** The last delivered members, empty if none yet. */
  public List<ServiceInstance> latest() {
    return snapshots.isEmpty() ? List.of() : snapshots.get(snapshots.size() - 1).members();
  }

  public Set<String> latestIds() {
    return snapshots.isEmpty() ? Set.of() : snapshots.get(snapshots.size() - 1).ids();
  }

  public Optional<ServiceInstance> latest(String id) {
    return latest().stream().filter(i -> i.id().equals(id)).findFirst();
  }

  /** Waits until a snapshot arrived and the latest one has exactly {@code ids}. */
  public void awaitIds(String... ids) {
    Set<String> expected = Set.of(ids);
    await("members " + expected)
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(2))
        .until(() -> !snapshots.isEmpty() && latestIds().equals(expected));
  }

  /**
   * The first snapshot at or after index {@code from} that satisfies {@code test}, waiting for it.
   */
  public Snapshot awaitFirst(int from, Predicate<Snapshot> test) {
    await()
        .atMost(Duration.ofSeconds(10))
        .pollInterval(Duration.ofMillis(1))
        .until(() -> find(from, test).isPresent());
    return find(from, test).orElseThrow();
  }

  private Optional<Snapshot> find(int from, Predicate<Snapshot> test) {
    List<Snapshot> all = snapshots();
    for (int i = from; i < all.size(); i++) {
      if (test.test(all.get(i))) {
        return Optional.of(all.get(i));
      }
    }
    return Optional.empty();
  }
}
