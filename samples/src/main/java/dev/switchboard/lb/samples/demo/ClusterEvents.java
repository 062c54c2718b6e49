package dev.switchboard.lb.samples.demo;

import dev.switchboard.lb.ClusterListener;
import dev.switchboard.lb.Eligibility;
import dev.switchboard.lb.Endpoint;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

/**
 * Records the cluster's state changes (members joining and leaving, ejections, eligibility) with
 * the time they happened, for the table to print and the summary to measure. Called on the
 * cluster's serial executor: it only appends to lists. Thread-safe.
 */
final class ClusterEvents implements ClusterListener {
  /** One change of one endpoint, at {@code nanos} ({@link System#nanoTime()}). */
  record Event(long nanos, String address, Kind kind, String text) {}

  enum Kind {
    JOINED,
    LEFT,
    OUT_OF_ROTATION,
    BACK_IN_ROTATION,
    OTHER
  }

  private final List<Event> all = new CopyOnWriteArrayList<>();
  private final ConcurrentLinkedQueue<Event> unprinted = new ConcurrentLinkedQueue<>();

  private void add(Endpoint e, Kind kind, String text) {
    Event event = new Event(System.nanoTime(), e.address(), kind, text);
    all.add(event);
    unprinted.add(event);
  }

  @Override
  public void endpointAdded(Endpoint endpoint) {
    add(endpoint, Kind.JOINED, "joined the cluster");
  }

  @Override
  public void endpointRemoved(Endpoint endpoint) {
    add(endpoint, Kind.LEFT, "left the cluster (no longer registered in ZooKeeper)");
  }

  @Override
  public void endpointEjected(Endpoint endpoint, long ejectionNanos) {
    add(
        endpoint,
        Kind.OTHER,
        "ejected by outlier detection for " + TimeUnit.NANOSECONDS.toSeconds(ejectionNanos) + " s");
  }

  @Override
  public void endpointRestored(Endpoint endpoint) {
    add(endpoint, Kind.OTHER, "ejection ended");
  }

  @Override
  public void eligibilityChanged(Endpoint endpoint, Eligibility from, Eligibility to) {
    Kind kind =
        from == Eligibility.ELIGIBLE
            ? Kind.OUT_OF_ROTATION
            : to == Eligibility.ELIGIBLE ? Kind.BACK_IN_ROTATION : Kind.OTHER;
    add(endpoint, kind, from.description() + " -> " + to.description());
  }

  /** Events not yet taken, oldest first. */
  List<Event> takeUnprinted() {
    List<Event> events = new ArrayList<>();
    for (Event e = unprinted.poll(); e != null; e = unprinted.poll()) {
      events.add(e);
    }
    return events;
  }

  /** The first event of {@code kind} for {@code address} at or after {@code sinceNanos}. */
  Optional<Event> first(String address, Kind kind, long sinceNanos) {
    return all.stream()
        .filter(e -> e.address().equals(address) && e.kind() == kind && e.nanos() - sinceNanos >= 0)
        .findFirst();
  }
}
