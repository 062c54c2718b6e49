package dev.switchboard.lb.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP server that reads a whole HTTP/1.1 request and closes the connection without answering: the
 * request was sent, no response came (a crash mid-request). Thread-safe.
 */
final class BlackHole implements AutoCloseable {
  final AtomicInteger requests = new AtomicInteger();
  private final ServerSocket socket;
  private final Thread acceptor;

  BlackHole() throws IOException {
    socket = new ServerSocket(0, 200, InetAddress.getLoopbackAddress());
    acceptor = new Thread(this::acceptLoop, "black-hole-" + socket.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return socket.getLocalPort();
  }

  private void acceptLoop() {
    while (!socket.isClosed()) {
      try (Socket s = socket.accept()) {
        if (readRequest(s.getInputStream())) {
          requests.incrementAndGet();
        }
      } catch (IOException e) {
        // closed, or the client gave up: next
      }
    }
  }

  /** Reads the head and a Content-Length body; returns whether a request arrived. */
  private static boolean readRequest(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int b;
    while ((b = in.read()) != -1) {
      head.append((char) b);
      if (head.length() >= 4 && head.substring(head.length() - 4).equals("\r\n\r\n")) {
        break;
      }
    }
    if (b == -1) {
      return false;
    }
    int length = 0;
    for (String line : head.toString().split("\r\n")) {
      if (line.toLowerCase(Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(line.substring("content-length:".length()).trim());
      }
    }
    return in.readNBytes(length).length == length;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
