package dev.switchboard.lb.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lab on real namespaces: reachability, each fault, healing and cleanup. */
class NetworkLabTest {
  private static final int PORT = 7000;

  @Test
  void host_reachable_blackHoleDropsSynsWithoutReset_healRestores() throws Exception {
    try (NetworkLab lab = NetworkLab.open()) {
      LabHost host = lab.host("reach");
      Listener listener = Listener.start(host);
      assertThat(connects(host.address(), 2000)).isTrue();

      host.blackHole();
      assertThat(host.fault()).isEqualTo("black hole");
      // A timeout, not a refusal: nothing answers, not even a RST.
      assertThatThrownBy(() -> connect(host.address(), 300))
          .isInstanceOf(SocketTimeoutException.class);

      host.heal();
      assertThat(connects(host.address(), 2000)).isTrue();
      assertThat(listener.process.isAlive()).isTrue();
    }
  }

  @Test
  void blackHole_establishedConnectionHangs() throws Exception {
    try (NetworkLab lab = NetworkLab.open()) {
      LabHost host = lab.host("hang");
      Listener.start(host);
      try (Socket s = connect(host.address(), 2000)) {
        s.setSoTimeout(2000);
        s.getOutputStream().write('x');
        assertThat(s.getInputStream().read()).isEqualTo('x'); // the listener echoes a byte

        host.blackHole();
        s.setSoTimeout(300);
        s.getOutputStream().write('y');
        assertThatThrownBy(() -> s.getInputStream().read())
            .isInstanceOf(SocketTimeoutException.class);
      }
    }
  }

  @Test
  void partitionFromClients_clientsCannotConnect_hostStillReachesThisJvm() throws Exception {
    try (NetworkLab lab = NetworkLab.open();
        ServerSocket registry = new ServerSocket()) {
      LabHost host = lab.host("split");
      registry.bind(new InetSocketAddress(InetAddress.getByName(host.gatewayAddress()), 0));
      Listener listener = Listener.start(host);

      host.partitionFromClients(PORT);
      assertThatThrownBy(() -> connect(host.address(), 300))
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(listener.dial(host.gatewayAddress(), registry.getLocalPort())).isTrue();

      host.blackHole();
      assertThat(listener.dial(host.gatewayAddress(), registry.getLocalPort())).isFalse();
    }
  }

  @Test
  void partitionFromPort_hostCannotReachThatPort_clientsStillReachIt() throws Exception {
    try (NetworkLab lab = NetworkLab.open();
        ServerSocket registry = new ServerSocket()) {
      LabHost host = lab.host("cut-off");
      registry.bind(new InetSocketAddress(InetAddress.getByName(host.gatewayAddress()), 0));
      Listener listener = Listener.start(host);
      assertThat(listener.dial(host.gatewayAddress(), registry.getLocalPort())).isTrue();

      host.partitionFromPort(registry.getLocalPort());
      assertThat(listener.dial(host.gatewayAddress(), registry.getLocalPort())).isFalse();
      assertThat(connects(host.address(), 2000)).isTrue();

      host.heal();
      assertThat(listener.dial(host.gatewayAddress(), registry.getLocalPort())).isTrue();
    }
  }

  @Test
  void cutLink_unreachableFromOutside_aSecondHostStillReachable() throws Exception {
    try (NetworkLab lab = NetworkLab.open()) {
      LabHost cut = lab.host("cut");
      LabHost other = lab.host("uncut");
      Listener.start(cut);
      Listener.start(other);
      cut.cutLink();
      assertThat(cut.fault()).isEqualTo("link cut");
      assertThatThrownBy(() -> connect(cut.address(), 300))
          .isInstanceOf(SocketTimeoutException.class);
      assertThat(connects(other.address(), 2000)).isTrue();
    }
  }

  @Test
  void loss_dropsSomeConnectsButNotAll() throws Exception {
    try (NetworkLab lab = NetworkLab.open()) {
      LabHost host = lab.host("lossy");
      Listener.start(host);
      host.loss(50);
      int ok = 0;
      int attempts = 24;
      for (int i = 0; i < attempts; i++) {
        ok += connects(host.address(), 150) ? 1 : 0;
      }
      // A connect needs 3 packets through: ~1 in 8 passes at 50% loss each way.
      assertThat(ok).isBetween(1, attempts - 1);
    }
  }

  @Test
  void close_killsProcessesAndDeletesNamespaces() throws Exception {
    LabHost host;
    Process process;
    try (NetworkLab lab = NetworkLab.open()) {
      host = lab.host("closing");
      process = Listener.start(host).process;
    }
    assertThat(process.isAlive()).isFalse();
    assertThat(Commands.run("ip", "netns", "list")).doesNotContain(host.namespace());
    assertThat(Commands.run("ip", "-o", "link", "show")).doesNotContain(host.address());
  }

  @Test
  void open_removesNamespacesOfRunsThatDied() {
    NetworkLab.open().close(); // skips where the lab cannot run
    long deadPid = 4_194_304L + 17; // above Linux's largest pid_max: never a live process
    String stale = NetworkLab.NAMESPACE_PREFIX + deadPid + "-1-crashed";
    Commands.run("ip", "netns", "add", stale);
    try (NetworkLab lab = NetworkLab.open()) {
      assertThat(Commands.run("ip", "netns", "list")).doesNotContain(stale);
    } finally {
      LabHost.deleteNamespace(stale);
    }
  }

  @Test
  void host_rejectsBadName() {
    try (NetworkLab lab = NetworkLab.open()) {
      assertThatThrownBy(() -> lab.host("Bad Name"))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("'Bad Name'");
    }
  }

  private static boolean connects(String host, int timeoutMillis) {
    try (Socket s = connect(host, timeoutMillis)) {
      return s.isConnected();
    } catch (IOException e) {
      return false;
    }
  }

  private static Socket connect(String host, int timeoutMillis) throws IOException {
    Socket s = new Socket();
    try {
      s.connect(new InetSocketAddress(host, PORT), timeoutMillis);
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /**
   * A process in a lab host: listens on {@link #PORT}, echoes one byte per connection, and on a
   * line {@code "host port"} on stdin dials out and answers {@code DIALED true|false}.
   */
  static final class Listener {
    final Process process;
    private final BufferedReader out;
    private final PrintWriter in;

    private Listener(Process process) {
      this.process = process;
      this.out =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
      this.in =
          new PrintWriter(
              new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8), true);
    }

    static Listener start(LabHost host) throws IOException {
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      Listener l =
          new Listener(
              host.start(
                  List.of(
                      java,
                      "-Xmx32m",
                      "-XX:TieredStopAtLevel=1",
                      "-cp",
                      System.getProperty("java.class.path"),
                      Listener.class.getName(),
                      host.address())));
      String line = l.out.readLine();
      if (!"READY".equals(line)) {
        throw new IOException("listener in " + host + " did not start: " + line);
      }
      return l;
    }

    boolean dial(String host, int port) throws IOException {
      in.println(host + " " + port);
      String line = out.readLine();
      return "DIALED true".equals(line);
    }

    public static void main(String[] args) throws IOException {
      ServerSocket server = new ServerSocket();
      server.bind(new InetSocketAddress(InetAddress.getByName(args[0]), PORT));
      Thread accept =
          new Thread(
              () -> {
                while (true) {
                  try {
                    Socket s = server.accept();
                    Thread t =
                        new Thread(
                            () -> {
                              try (s) {
                                int b = s.getInputStream().read();
                                if (b >= 0) {
                                  s.getOutputStream().write(b);
                                  s.getInputStream().read(); // until the client closes
                                }
                              } catch (IOException ignored) {
                                // the client went away
                              }
                            });
                    t.setDaemon(true);
                    t.start();
                  } catch (IOException e) {
                    return;
                  }
                }
              });
      accept.setDaemon(true);
      accept.start();
      System.out.println("READY");
      BufferedReader stdin =
          new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      String line;
      while ((line = stdin.readLine()) != null) {
        String[] hostPort = line.split(" ");
        boolean ok;
        try (Socket s = new Socket()) {
          s.connect(new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])), 500);
          ok = true;
        } catch (IOException e) {
          ok = false;
        }
        System.out.println("DIALED " + ok);
      }
    }
  }
}
