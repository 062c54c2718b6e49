package dev.switchboard.lb.thrift;

import java.time.Duration;
import java.util.Objects;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * How a client connects to Thrift servers and pools its connections: framing, protocol, timeouts,
 * TLS, and pool bounds. Classic Thrift carries one call per connection, so the most connections per
 * endpoint is also the most calls in flight to it (the cluster's bulkhead).
 *
 * <p>Immutable and thread-safe; built by {@link #builder()}.
 */
public final class ThriftTransportConfig {
  private final boolean framed;
  private final ThriftProtocol protocol;
  private final Duration connectTimeout;
  private final Duration readTimeout;
  private final int maxFrameSize;
  private final @Nullable SSLContext sslContext;
  private final boolean verifyHostname;
  private final int maxConnectionsPerEndpoint;
  private final int maxIdlePerEndpoint;
  private final Duration idleTimeout;
  private final Duration validateAfterIdle;
  private final int warmUpConnections;
  private final Duration warmUpJitter;

  private ThriftTransportConfig(Builder b) {
    this.framed = b.framed;
    this.protocol = b.protocol;
    this.connectTimeout = b.connectTimeout;
    this.readTimeout = b.readTimeout;
    this.maxFrameSize = b.maxFrameSize;
    this.sslContext = b.sslContext;
    this.verifyHostname = b.verifyHostname;
    this.maxConnectionsPerEndpoint = b.maxConnectionsPerEndpoint;
    this.maxIdlePerEndpoint = b.maxIdlePerEndpoint;
    this.idleTimeout = b.idleTimeout;
    this.validateAfterIdle = b.validateAfterIdle;
    this.warmUpConnections = b.warmUpConnections;
    this.warmUpJitter = b.warmUpJitter;
  }

  /**
   * Framed transport, binary protocol, 1 s connect, 10 s read, 64 connections per endpoint, all 64
   * of which may stay idle (for at most 60 s).
   */
  public static Builder builder() {
    return new Builder();
  }

  /** The defaults of {@link #builder()}. */
  public static ThriftTransportConfig defaults() {
    return builder().build();
  }

  public boolean framed() {
    return framed;
  }

  public ThriftProtocol protocol() {
    return protocol;
  }

  public Duration connectTimeout() {
    return connectTimeout;
  }

  public Duration readTimeout() {
    return readTimeout;
  }

  public int maxFrameSize() {
    return maxFrameSize;
  }

  public @Nullable SSLContext sslContext() {
    return sslContext;
  }

  public boolean verifyHostname() {
    return verifyHostname;
  }

  public int maxConnectionsPerEndpoint() {
    return maxConnectionsPerEndpoint;
  }

  public int maxIdlePerEndpoint() {
    return maxIdlePerEndpoint;
  }

  public Duration idleTimeout() {
    return idleTimeout;
  }

  public Duration validateAfterIdle() {
    return validateAfterIdle;
  }

  public int warmUpConnections() {
    return warmUpConnections;
  }

  public Duration warmUpJitter() {
    return warmUpJitter;
  }

  @Override
  public String toString() {
    return "ThriftTransportConfig{"
        + (framed ? "framed" : "buffered")
        + ", "
        + protocol
        + (sslContext == null ? "" : ", tls")
        + ", connect="
        + connectTimeout
        + ", read="
        + readTimeout
        + ", maxConnections="
        + maxConnectionsPerEndpoint
        + "}";
  }

  /** Builds a {@link ThriftTransportConfig}; each setter validates at once. Not thread-safe. */
  public static final class Builder {
    private boolean framed = true;
    private ThriftProtocol protocol = ThriftProtocol.BINARY;
    private Duration connectTimeout = Duration.ofSeconds(1);
    private Duration readTimeout = Duration.ofSeconds(10);
    private int maxFrameSize = 16 * 1024 * 1024;
    private @Nullable SSLContext sslContext;
    private boolean verifyHostname = true;
    private int maxConnectionsPerEndpoint = 64;
    private int maxIdlePerEndpoint = 64;
    private Duration idleTimeout = Duration.ofSeconds(60);
    private Duration validateAfterIdle = Duration.ofSeconds(1);
    private int warmUpConnections = 1;
    private Duration warmUpJitter = Duration.ofMillis(500);

    private Builder() {}

    /**
     * Framed transport ({@code TFramedTransport}, the default), required by non-blocking servers;
     * {@code false} for the classic {@code TThreadPoolServer} over {@code TSocket}. A mismatch
     * fails the first call with a message that says "framed vs unframed".
     */
    public Builder framed(boolean framed) {
      this.framed = framed;
      return this;
    }

    public Builder protocol(ThriftProtocol protocol) {
      this.protocol = Objects.requireNonNull(protocol, "protocol");
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = positive("connectTimeout", timeout);
      return this;
    }

    /** The longest a call waits for its reply; a call's own deadline may cut it shorter. */
    public Builder readTimeout(Duration timeout) {
      this.readTimeout = positive("readTimeout", timeout);
      return this;
    }

    /** The largest frame accepted from a server (framed transport only). */
    public Builder maxFrameSize(int bytes) {
      if (bytes < 1024) {
        throw new IllegalArgumentException("maxFrameSize must be at least 1024 but was " + bytes);
      }
      this.maxFrameSize = bytes;
      return this;
    }

    /**
     * Connects over TLS with {@code context} (its key managers supply the client certificate for
     * mutual TLS); {@code verifyHostname} checks the server certificate names the host dialled.
     */
    public Builder tls(SSLContext context, boolean verifyHostname) {
      this.sslContext = Objects.requireNonNull(context, "context");
      this.verifyHostname = verifyHostname;
      return this;
    }

    /**
     * The most connections (and so calls in flight) per endpoint, and the most kept idle. By
     * default both are 64: a pool keeps as many connections as its busiest moment used (idle ones
     * close after {@link #idle idleTimeout}), so a burst of callers does not close and reopen
     * connections; a smaller {@code maxIdlePerEndpoint} trades reconnects for fewer idle sockets.
     */
    public Builder pool(int maxConnectionsPerEndpoint, int maxIdlePerEndpoint) {
      if (maxConnectionsPerEndpoint < 1) {
        throw new IllegalArgumentException(
            "maxConnectionsPerEndpoint must be at least 1 but was " + maxConnectionsPerEndpoint);
      }
      if (maxIdlePerEndpoint < 0 || maxIdlePerEndpoint > maxConnectionsPerEndpoint) {
        throw new IllegalArgumentException(
            "maxIdlePerEndpoint must be between 0 and maxConnectionsPerEndpoint ("
                + maxConnectionsPerEndpoint
                + ") but was "
                + maxIdlePerEndpoint);
      }
      this.maxConnectionsPerEndpoint = maxConnectionsPerEndpoint;
      this.maxIdlePerEndpoint = maxIdlePerEndpoint;
      return this;
    }

    /**
     * Idle connections older than {@code idleTimeout} are closed; one idle longer than {@code
     * validateAfterIdle} is checked (without blocking) for a peer that closed it before reuse.
     */
    public Builder idle(Duration idleTimeout, Duration validateAfterIdle) {
      this.idleTimeout = positive("idleTimeout", idleTimeout);
      if (validateAfterIdle.isNegative()) {
        throw new IllegalArgumentException(
            "validateAfterIdle must not be negative but was " + validateAfterIdle);
      }
      this.validateAfterIdle = validateAfterIdle;
      return this;
    }

    /**
     * Opens {@code connections} to each new or revived endpoint ahead of its first call, each after
     * a random delay below {@code jitter} so that many clients do not connect at once.
     */
    public Builder warmUp(int connections, Duration jitter) {
      if (connections < 0) {
        throw new IllegalArgumentException(
            "warm-up connections must not be negative but was " + connections);
      }
      if (jitter.isNegative()) {
        throw new IllegalArgumentException("warm-up jitter must not be negative but was " + jitter);
      }
      this.warmUpConnections = connections;
      this.warmUpJitter = jitter;
      return this;
    }

    public ThriftTransportConfig build() {
      if (warmUpConnections > maxIdlePerEndpoint) {
        throw new IllegalStateException(
            "warm-up connections ("
                + warmUpConnections
                + ") exceed maxIdlePerEndpoint ("
                + maxIdlePerEndpoint
                + ")");
      }
      return new ThriftTransportConfig(this);
    }

    private static Duration positive(String name, Duration d) {
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(name + " must be positive but was " + d);
      }
      return d;
    }
  }
}
