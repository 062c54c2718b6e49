package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Raw TCP peers on 127.0.0.1 that misbehave below Thrift: a port that refuses connections, a
 * listener whose accept queue is full (further SYNs are dropped, so connects hang), a server that
 * accepts and never says a word (a TLS handshake to it hangs), and one that answers every framed
 * request with a frame of garbage. Everything opened is closed by {@link #close()}. Thread-safe.
 */
final class MisbehavingPeers implements AutoCloseable {
  private final List<AutoCloseable> resources = new CopyOnWriteArrayList<>();

  /** A loopback port nothing listens on (bound once to pick it, then closed): connects refused. */
  static int refusedPort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /**
   * A listener with backlog 1 that never accepts, its accept queue filled with raw connections.
   * Linux drops a SYN when the listener's accept queue is full, so a further connect hangs until
   * its own timeout. Returns the port once a probe connect has been seen to hang.
   *
   * @throws IllegalStateException if the queue could not be filled (not Linux-like behaviour)
   */
  int blackHole() throws IOException {
    ServerSocket listener = new ServerSocket();
    resources.add(listener);
    listener.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
    int port = listener.getLocalPort();
    for (int i = 0; i < 16; i++) {
      Socket s = new Socket();
      try {
        s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 250);
        resources.add(s); // held open: it occupies a slot of the accept queue
      } catch (SocketTimeoutException full) {
        s.close();
        return port; // this SYN was dropped: the queue is full
      }
    }
    throw new IllegalStateException("accept queue of port " + port + " never filled");
  }

  /** A server that accepts connections and holds them open without reading or writing. */
  int silent() throws IOException {
    return serve(
        s -> {
          // say nothing; the socket stays open until close()
        });
  }

  /** A server that reads each framed request and answers with an 8-byte frame of garbage. */
  int garbage() throws IOException {
    return serve(
        s -> {
          InputStream in = s.getInputStream();
          OutputStream out = s.getOutputStream();
          while (true) {
            byte[] header = in.readNBytes(4);
            if (header.length < 4) {
              return;
            }
            in.readNBytes(ByteBuffer.wrap(header).getInt());
            out.write(new byte[] {0, 0, 0, 8, 'g', 'a', 'r', 'b', 'a', 'g', 'e', '!'});
            out.flush();
          }
        });
  }

  /** What one accepted connection gets. */
  @FunctionalInterface
  interface Behaviour {
    void handle(Socket s) throws IOException;
  }

  /** A raw server on 127.0.0.1 that handles every accepted connection with {@code behaviour}. */
  int serve(Behaviour behaviour) throws IOException {
    ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    resources.add(server);
    Thread acceptor =
        new Thread(
            () -> {
              while (!server.isClosed()) {
                try {
                  Socket s = server.accept();
                  resources.add(s);
                  Thread h =
                      new Thread(
                          () -> {
                            try {
                              behaviour.handle(s);
                            } catch (IOException gone) {
                              // the client went away
                            }
                          },
                          "misbehaving-peer-conn");
                  h.setDaemon(true);
                  h.start();
                } catch (IOException closed) {
                  return;
                }
              }
            },
            "misbehaving-peer-" + server.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
    return server.getLocalPort();
  }

  @Override
  public void close() throws Exception {
    List<AutoCloseable> all = new ArrayList<>(resources);
    for (AutoCloseable c : all) {
      c.close();
    }
  }
}
