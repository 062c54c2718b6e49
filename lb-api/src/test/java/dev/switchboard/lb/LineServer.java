package dev.switchboard.lb;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A tiny TCP server on 127.0.0.1 that answers each connection with one line, or, once {@link
 * #hang()} is called, accepts connections and never answers (a process that keeps its registry
 * session or heartbeat alive but is stuck).
 */
public final class LineServer implements AutoCloseable {
  private final ServerSocket socket;
  private final Thread acceptor;
  private final List<Socket> held = new CopyOnWriteArrayList<>();
  private volatile boolean hanging;

  public LineServer() throws IOException {
    socket = new ServerSocket();
    socket.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
    acceptor = new Thread(this::accept, "line-server-" + socket.getLocalPort());
    acceptor.setDaemon(true);
    acceptor.start();
  }

  public int port() {
    return socket.getLocalPort();
  }

  public void hang() {
    hanging = true;
  }

  private void accept() {
    while (!socket.isClosed()) {
      try {
        Socket connection = socket.accept();
        if (hanging) {
          held.add(connection);
          continue;
        }
        try (connection) {
          OutputStream out = connection.getOutputStream();
          out.write("ok\n".getBytes(StandardCharsets.US_ASCII));
          out.flush();
        }
      } catch (IOException e) {
        // closed, or the client went away
      }
    }
  }

  /** One call to {@code instance}: connect, read a line, classified as a client would. */
  public static Outcome call(ServiceInstance instance, int timeoutMillis) {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress(instance.host(), instance.port()), timeoutMillis);
      s.setSoTimeout(timeoutMillis);
      BufferedReader in =
          new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.US_ASCII));
      return "ok".equals(in.readLine()) ? Outcome.SUCCESS : Outcome.TRANSPORT_FAILURE;
    } catch (SocketTimeoutException e) {
      return Outcome.TIMEOUT;
    } catch (IOException e) {
      return Outcome.CONNECT_FAILURE;
    }
  }

  @Override
  public void close() throws IOException {
    socket.close();
    for (Socket s : held) {
      s.close();
    }
    try {
      acceptor.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
