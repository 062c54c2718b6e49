package dev.switchboard.lb.thrift;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;

/**
 * Holds many connections open against a TLS server, in its own JVM so that the server's process and
 * this one each stay within their file limits: {@code <port> <certificate dir> <idle> <stalled>}
 * opens {@code idle} connections that finish their TLS handshake and then say nothing, and {@code
 * stalled} that never finish it (half connect and stay silent, half send the first bytes of a
 * ClientHello), prints {@code HELD idle=.. stalled=.. failed=.. first=..}, then keeps them until
 * its standard input closes.
 *
 * <p>The idle connections speak TLS 1.2 so that all but the first resume the first one's session:
 * ten thousand full handshakes would cost this test minutes of CPU, and holding a connection is the
 * same whichever handshake opened it. (The stalled handshakes never get that far.)
 */
public final class ConnectionHolderMain {
  // A TLS handshake record header announcing 512 bytes, and the start of a ClientHello.
  private static final byte[] PARTIAL_CLIENT_HELLO = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00};

  private ConnectionHolderMain() {}

  public static void main(String[] args) throws Exception {
    InetSocketAddress server = new InetSocketAddress("127.0.0.1", Integer.parseInt(args[0]));
    SSLSocketFactory tls = TestCertificates.existing(Path.of(args[1])).client().getSocketFactory();
    int idle = Integer.parseInt(args[2]);
    int stalled = Integer.parseInt(args[3]);
    List<Socket> held = Collections.synchronizedList(new ArrayList<>());
    AtomicInteger failed = new AtomicInteger();
    AtomicReference<String> firstFailure = new AtomicReference<>("none");
    ExecutorService connectors = Executors.newFixedThreadPool(8);
    for (int i = 0; i < idle; i++) {
      connectors.execute(
          () -> {
            try {
              SSLSocket socket = (SSLSocket) tls.createSocket();
              socket.setEnabledProtocols(new String[] {"TLSv1.2"});
              held.add(socket);
              socket.connect(server, 10_000);
              socket.setSoTimeout(30_000);
              socket.startHandshake();
            } catch (IOException e) {
              failed.incrementAndGet();
              firstFailure.compareAndSet("none", e.toString());
            }
          });
    }
    connectors.shutdown();
    if (!connectors.awaitTermination(10, TimeUnit.MINUTES)) {
      throw new IllegalStateException("handshakes still running after 10 minutes");
    }
    for (int i = 0; i < stalled; i++) {
      Socket socket = new Socket();
      held.add(socket);
      socket.connect(server, 10_000);
      if (i % 2 == 1) {
        OutputStream out = socket.getOutputStream();
        out.write(PARTIAL_CLIENT_HELLO);
        out.flush();
      }
    }
    System.out.println(
        "HELD idle="
            + idle
            + " stalled="
            + stalled
            + " failed="
            + failed
            + " first="
            + firstFailure);
    System.out.flush();
    while (System.in.read() >= 0) {
      // hold until the parent closes our input or exits
    }
  }
}
