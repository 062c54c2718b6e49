package dev.switchboard.lb;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.time.Duration;

/** Healthy when a TCP connection opens within the timeout; the connection is closed at once. */
final class TcpConnectHealthCheck implements HealthCheck {
  static final TcpConnectHealthCheck INSTANCE = new TcpConnectHealthCheck();

  private TcpConnectHealthCheck() {}

  @Override
  public boolean isHealthy(ServiceInstance instance, Duration timeout) {
    int millis = (int) Math.max(1, Math.min(Integer.MAX_VALUE, timeout.toMillis()));
    try (Socket socket = new Socket()) {
      socket.connect(new InetSocketAddress(instance.host(), instance.port()), millis);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  @Override
  public String toString() {
    return "tcp_connect";
  }
}
