package dev.switchboard.lb;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ClosedSelectorException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.LockSupport;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/*
 * The probe channel
 * -----------------
 * Prequal's probes must not touch the service's own protocol (a stock generated Thrift client, an
 * HTTP server that is not ours), so a Switchboard server answers them on a UDP port of its own,
 * published in its registry entry under METADATA_KEY. One datagram each way, no connection: a
 * client of a thousand servers keeps no socket per server, and a lost probe is just an answer that
 * never comes (the pool ages out, the picker falls back to its own signals).
 *
 *   probe:  int magic "SBPQ", long sequence                                   (12 bytes)
 *   answer: int magic, long sequence, int requests in flight, long latency ns (24 bytes)
 *
 * The client matches an answer to its probe by sequence number in a ring of the last 4,096 probes,
 * so a late answer to an overwritten slot is dropped rather than credited to the wrong member. The
 * answer is twice the probe's size: a spoofed-source flood is amplified 2x at most, and the
 * responder answers only well-formed probes. The responder runs one daemon thread; the prober two
 * (a sender, so that a pick never makes the system call, and a receiver).
 */

/**
 * The wire half of {@link Prequal}: {@link Responder}, which answers load probes for a server from
 * its {@link Prequal.LoadTracker}, and {@link UdpProber}, the client that sends them to the port a
 * member publishes in its metadata. Members without that metadata are not probed.
 */
public final class LoadProbes {
  private static final Logger logger = LoggerFactory.getLogger(LoadProbes.class);

  /** The metadata key under which a server publishes its probe port (letters and '_': Consul). */
  public static final String METADATA_KEY = "switchboard_probe_port";

  static final int MAGIC = 0x53425051; // "SBPQ"
  static final int PROBE_BYTES = 12;
  static final int ANSWER_BYTES = 24;

  private LoadProbes() {}

  /**
   * Starts answering probes on a free UDP port of {@code bindAddress} (the wildcard address binds
   * every interface), from {@code tracker}.
   *
   * @throws IOException if the port cannot be opened
   */
  public static Responder respond(InetAddress bindAddress, Prequal.LoadTracker tracker)
      throws IOException {
    return new Responder(bindAddress, tracker);
  }

  /**
   * The process's shared prober, opened on first use and never closed: one UDP socket and one
   * daemon thread for every Prequal cluster that does not bring its own.
   *
   * @throws java.io.UncheckedIOException if no UDP socket can be opened
   */
  public static UdpProber shared() {
    return Shared.PROBER;
  }

  private static final class Shared {
    static final UdpProber PROBER;

    static {
      try {
        PROBER = newProber();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot open the load probe socket", e);
      }
    }
  }

  /** A new prober with its own socket and receiving thread; close it when done. */
  public static UdpProber newProber() throws IOException {
    return new UdpProber(Ticker.system());
  }

  /** Answers load probes from a {@link Prequal.LoadTracker}. Thread-safe. */
  public static final class Responder implements AutoCloseable {
    private final DatagramChannel channel;
    private final Prequal.LoadTracker tracker;
    private final int port;
    private final LongAdder answered = new LongAdder();
    private final LongAdder malformed = new LongAdder();

    private Responder(InetAddress bindAddress, Prequal.LoadTracker tracker) throws IOException {
      this.tracker = tracker;
      this.channel = DatagramChannel.open();
      try {
        channel.bind(new InetSocketAddress(bindAddress, 0));
        this.port = ((InetSocketAddress) channel.getLocalAddress()).getPort();
      } catch (IOException e) {
        channel.close();
        throw e;
      }
      Thread thread = new Thread(this::serve, "switchboard-probe-responder-" + port);
      thread.setDaemon(true);
      thread.start();
    }

    /** The UDP port probes go to; publish it under {@link #METADATA_KEY}. */
    public int port() {
      return port;
    }

    /** Probes answered so far. */
    public long answered() {
      return answered.sum();
    }

    /** Datagrams ignored because they were not probes. */
    public long malformed() {
      return malformed.sum();
    }

    private void serve() {
      ByteBuffer in = ByteBuffer.allocateDirect(64);
      ByteBuffer out = ByteBuffer.allocateDirect(ANSWER_BYTES);
      while (channel.isOpen()) {
        try {
          in.clear();
          SocketAddress from = channel.receive(in);
          if (in.position() != PROBE_BYTES || in.getInt(0) != MAGIC) {
            malformed.increment();
            continue;
          }
          out.clear();
          out.putInt(MAGIC)
              .putLong(in.getLong(4))
              .putInt(tracker.requestsInFlight())
              .putLong(tracker.latencyNanos(System.nanoTime()))
              .flip();
          channel.send(out, from);
          answered.increment();
        } catch (ClosedChannelException e) {
          return;
        } catch (IOException e) {
          // One unanswerable peer (an ICMP error on a connectionless socket) must not stop it.
          logger.debug("Load probe responder on port {}: {}", port, e.toString());
        }
      }
    }

    /** Stops answering and releases the port. */
    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        logger.debug("Closing the load probe responder on port {}: {}", port, e.toString());
      }
    }
  }

  /**
   * Sends probes to the port each member publishes under {@link #METADATA_KEY} and hands the
   * answers to the pool that asked. {@link #probe} never blocks and makes no system call: it puts
   * the probe in a ring that a sender thread empties (a datagram send costs microseconds, too much
   * for a pick), and wakes that thread only if it sleeps. Thread-safe; one prober may serve every
   * cluster of a process.
   */
  public static final class UdpProber implements Prequal.Prober, AutoCloseable {
    private static final int RING = 4096;
    private static final long SEND_NAP_NANOS = 200_000;
    private static final int IDLE_NAPS = 500; // 0.1 s without probes: park until woken

    private record Pending(
        long sequence, Endpoint endpoint, Prequal.Replies replies, InetSocketAddress to) {}

    /** Where one member's probes go, for the registration it was resolved from. */
    private record Target(ServiceInstance instance, @Nullable InetSocketAddress address) {}

    private final DatagramChannel channel;
    private final Selector selector;
    private final Ticker ticker;
    private final AtomicLong sequence = new AtomicLong();
    private final AtomicBoolean senderParked = new AtomicBoolean();
    private final Thread sender;
    private final AtomicReferenceArray<Pending> pending = new AtomicReferenceArray<>(RING);
    private final Map<Endpoint, Target> targets = new ConcurrentHashMap<>();
    private final LongAdder sent = new LongAdder();
    private final LongAdder answered = new LongAdder();

    UdpProber(Ticker ticker) throws IOException {
      this.ticker = ticker;
      // Non-blocking, so that probe() never waits; the receiver waits on a selector instead.
      this.channel = DatagramChannel.open();
      this.selector = Selector.open();
      try {
        channel.configureBlocking(false);
        channel.bind(null);
        channel.register(selector, SelectionKey.OP_READ);
      } catch (IOException e) {
        channel.close();
        selector.close();
        throw e;
      }
      Thread thread = new Thread(this::receive, "switchboard-probe-receiver");
      thread.setDaemon(true);
      thread.start();
      sender = new Thread(this::send, "switchboard-probe-sender");
      sender.setDaemon(true);
      sender.start();
    }

    @Override
    public void probe(Endpoint endpoint, Prequal.Replies replies) {
      InetSocketAddress to = target(endpoint);
      if (to == null) {
        return;
      }
      long s = sequence.getAndIncrement();
      pending.set((int) (s & (RING - 1)), new Pending(s, endpoint, replies, to));
      if (senderParked.get() && senderParked.compareAndSet(true, false)) {
        LockSupport.unpark(sender);
      }
    }

    /*
     * The sender thread: the ring of pending probes is also the outbox. It sends every sequence
     * number from the last one it sent to the last one taken, skipping slots a later probe has
     * overwritten (the ring lapped it: too many probes waiting). A sequence number taken but not
     * yet written to its slot is waited for with a spin: the taker writes it a few instructions
     * later.
     *
     * Waking a parked thread is a system call, which is what probe() must not make per call. So
     * while probes flow the sender does not wait to be woken: it naps SEND_NAP_NANOS and sends
     * what arrived meanwhile (a probe waits at most that long). After IDLE_NAPS naps with nothing
     * to send it parks until woken, and only then does the next probe() wake it, once.
     */
    private void send() {
      ByteBuffer out = ByteBuffer.allocateDirect(PROBE_BYTES);
      long next = 0;
      int idleNaps = 0;
      while (channel.isOpen()) {
        if (next == sequence.get()) {
          if (++idleNaps < IDLE_NAPS) {
            LockSupport.parkNanos(this, SEND_NAP_NANOS);
            continue;
          }
          senderParked.set(true);
          if (next == sequence.get()) {
            LockSupport.park(this);
          }
          senderParked.set(false);
          continue;
        }
        idleNaps = 0;
        Pending p = pending.get((int) (next & (RING - 1)));
        if (p == null || p.sequence() < next) {
          Thread.onSpinWait();
          continue;
        }
        if (p.sequence() == next) {
          out.clear();
          out.putInt(MAGIC).putLong(next).flip();
          try {
            if (channel.send(out, p.to()) > 0) {
              sent.increment();
            }
          } catch (ClosedChannelException e) {
            return;
          } catch (IOException e) {
            logger.debug("Load probe to {} not sent: {}", p.to(), e.toString());
          }
        }
        next++;
      }
    }

    /** Probes sent so far. */
    public long sent() {
      return sent.sum();
    }

    /** Answers matched to their probe so far. */
    public long answered() {
      return answered.sum();
    }

    /** The local UDP port answers come back to (tests). */
    int localPort() {
      try {
        return ((InetSocketAddress) channel.getLocalAddress()).getPort();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }

    private @Nullable InetSocketAddress target(Endpoint endpoint) {
      ServiceInstance instance = endpoint.instance();
      Target t = targets.get(endpoint);
      if (t == null || t.instance() != instance) {
        t = new Target(instance, resolve(instance));
        if (targets.size() > 4 * RING) {
          targets.keySet().removeIf(Endpoint::isRemoved);
        }
        targets.put(endpoint, t);
      }
      return t.address();
    }

    private static @Nullable InetSocketAddress resolve(ServiceInstance instance) {
      String port = instance.metadata().get(METADATA_KEY);
      if (port == null) {
        return null;
      }
      try {
        int p = Integer.parseInt(port);
        if (p < 1 || p > 65_535) {
          throw new NumberFormatException();
        }
        InetSocketAddress address = new InetSocketAddress(instance.host(), p);
        return address.isUnresolved() ? null : address;
      } catch (NumberFormatException e) {
        logger.warn(
            "Member {} publishes {}='{}', not a port: it is not probed",
            instance.address(),
            METADATA_KEY,
            port);
        return null;
      }
    }

    private void receive() {
      ByteBuffer in = ByteBuffer.allocateDirect(64);
      try (selector) {
        while (channel.isOpen()) {
          selector.select();
          selector.selectedKeys().clear();
          for (SocketAddress from = read(in); from != null; from = read(in)) {
            deliver(in);
          }
        }
      } catch (ClosedChannelException | ClosedSelectorException e) {
        // closed by close()
      } catch (IOException e) {
        logger.warn(
            "Load probe receiver stopped, Prequal falls back to least connections: {}",
            e.toString());
      }
    }

    private @Nullable SocketAddress read(ByteBuffer in) throws IOException {
      in.clear();
      return channel.receive(in);
    }

    private void deliver(ByteBuffer in) {
      if (in.position() != ANSWER_BYTES || in.getInt(0) != MAGIC) {
        return;
      }
      long s = in.getLong(4);
      int slot = (int) (s & (RING - 1));
      Pending p = pending.get(slot);
      if (p == null || p.sequence() != s || !pending.compareAndSet(slot, p, null)) {
        return; // late, duplicated, or a stranger's
      }
      answered.increment();
      p.replies().accept(p.endpoint(), in.getInt(12), in.getLong(16), ticker.read());
    }

    /** Stops probing; answers still on their way are dropped. */
    @Override
    public void close() {
      try {
        channel.close();
      } catch (IOException e) {
        logger.debug("Closing the load prober: {}", e.toString());
      }
      selector.wakeup();
      LockSupport.unpark(sender);
    }
  }
}
