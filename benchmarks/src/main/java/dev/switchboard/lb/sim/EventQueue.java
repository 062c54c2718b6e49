package dev.switchboard.lb.sim;

import java.util.PriorityQueue;
import org.jspecify.annotations.Nullable;

/**
 * The simulation's future: events ordered by virtual time, then by the order they were scheduled
 * in, so events at the same nanosecond run in a reproducible order. Not thread-safe.
 */
final class EventQueue {

  /** What an event does when it falls due. */
  enum Kind {
    /** A client issues its next call. */
    ARRIVAL,
    /** A server's worker finishes a request; the reply reaches the client at once. */
    SERVICE_DONE,
    /** A client's deadline for one call passes. */
    TIMEOUT,
    /** A registry snapshot reaches one client. */
    DELIVERY,
    /** The flapping server leaves or rejoins the registry. */
    FLAP,
    /** The new servers start and register. */
    SCALE_OUT,
    /** Antagonists move: every server's speed is drawn again. */
    ANTAGONISTS,
    /** A Prequal probe reaches its server, which answers. */
    PROBE,
    /** A probe's answer reaches its client. */
    PROBE_REPLY
  }

  /** One scheduled event; the payload fields used depend on the kind. */
  static final class Event implements Comparable<Event> {
    final long time;
    final long seq;
    final Kind kind;
    final int index; // client or server
    final @Nullable Request request;
    final boolean @Nullable [] members;
    final @Nullable ProbeTrip probe;

    private Event(
        long time,
        long seq,
        Kind kind,
        int index,
        @Nullable Request request,
        boolean @Nullable [] members,
        @Nullable ProbeTrip probe) {
      this.time = time;
      this.seq = seq;
      this.kind = kind;
      this.index = index;
      this.request = request;
      this.members = members;
      this.probe = probe;
    }

    @Override
    public int compareTo(Event o) {
      int c = Long.compare(time, o.time);
      return c != 0 ? c : Long.compare(seq, o.seq);
    }
  }

  private final PriorityQueue<Event> queue = new PriorityQueue<>();
  private long sequence;
  private long processed;

  void schedule(
      long time, Kind kind, int index, @Nullable Request request, boolean @Nullable [] members) {
    queue.add(new Event(time, sequence++, kind, index, request, members, null));
  }

  void schedule(long time, Kind kind, int index, ProbeTrip probe) {
    queue.add(new Event(time, sequence++, kind, index, null, null, probe));
  }

  /** The next event, or null when nothing is left. */
  @Nullable Event poll() {
    Event e = queue.poll();
    if (e != null) {
      processed++;
    }
    return e;
  }

  /** Events taken so far. */
  long processed() {
    return processed;
  }
}
