package dev.switchboard.lb;

import java.util.Map;
import java.util.Objects;

/**
 * One registered instance of a service: where it listens, which zone it runs in, how much traffic
 * it takes relative to its peers, and whether it is draining.
 *
 * <p>Validated on construction; a bad value throws {@link IllegalArgumentException} naming the
 * field. A weight of 0 means "registered, but takes no traffic". Immutable and thread-safe.
 *
 * @param service the logical service name, for example {@code "echo"}; not blank
 * @param id the instance id, unique within the service; not blank
 * @param host the host name or IP address clients connect to; not blank
 * @param port the port, 1 to 65535
 * @param zone the availability zone, or {@link #NO_ZONE} when unknown
 * @param weight the relative share of traffic, 0 to {@value #MAX_WEIGHT}
 * @param metadata free-form string pairs carried through the registry (for example {@code scheme})
 * @param draining whether the instance asked to receive no new calls before it leaves
 */
public record ServiceInstance(
    String service,
    String id,
    String host,
    int port,
    String zone,
    int weight,
    Map<String, String> metadata,
    boolean draining) {

  /** The zone of an instance that did not say where it runs. */
  public static final String NO_ZONE = "";

  /** The weight of an instance that did not set one. */
  public static final int DEFAULT_WEIGHT = 100;

  /** The largest weight an instance may carry. */
  public static final int MAX_WEIGHT = 10_000;

  public ServiceInstance {
    requireNonBlank(service, "service");
    requireNonBlank(id, "id");
    requireNonBlank(host, "host");
    if (port < 1 || port > 65_535) {
      throw new IllegalArgumentException(
          "port must be between 1 and 65535 but was " + port + " (instance " + id + ")");
    }
    if (zone == null) {
      throw new IllegalArgumentException("zone must not be null (use ServiceInstance.NO_ZONE)");
    }
    if (weight < 0 || weight > MAX_WEIGHT) {
      throw new IllegalArgumentException(
          "weight must be between 0 and "
              + MAX_WEIGHT
              + " but was "
              + weight
              + " (instance "
              + id
              + ")");
    }
    if (metadata == null) {
      throw new IllegalArgumentException("metadata must not be null (instance " + id + ")");
    }
    for (Map.Entry<String, String> e : metadata.entrySet()) {
      if (e.getKey() == null || e.getValue() == null) {
        throw new IllegalArgumentException(
            "metadata must not hold null keys or values (instance " + id + ")");
      }
    }
    metadata = Map.copyOf(metadata);
  }

  /** Starts an instance of {@code service} at {@code host:port}, with id {@code host:port}. */
  public static Builder builder(String service, String host, int port) {
    return new Builder(service, host, port);
  }

  /** Returns {@code host:port}. */
  public String address() {
    return host.indexOf(':') >= 0 ? "[" + host + "]:" + port : host + ":" + port;
  }

  /** Returns a copy of this instance with {@code draining} set as given. */
  public ServiceInstance withDraining(boolean draining) {
    return draining == this.draining
        ? this
        : new ServiceInstance(service, id, host, port, zone, weight, metadata, draining);
  }

  /** Returns a copy of this instance with the given weight. */
  public ServiceInstance withWeight(int weight) {
    return new ServiceInstance(service, id, host, port, zone, weight, metadata, draining);
  }

  /** Returns a builder holding this instance's values. */
  public Builder toBuilder() {
    return new Builder(service, host, port)
        .id(id)
        .zone(zone)
        .weight(weight)
        .metadata(metadata)
        .draining(draining);
  }

  private static void requireNonBlank(String value, String field) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          field + " must not be blank but was " + (value == null ? "null" : "'" + value + "'"));
    }
  }

  /** Builds a {@link ServiceInstance}; not thread-safe. */
  public static final class Builder {
    private final String service;
    private final String host;
    private final int port;
    private String id;
    private String zone = NO_ZONE;
    private int weight = DEFAULT_WEIGHT;
    private Map<String, String> metadata = Map.of();
    private boolean draining;

    private Builder(String service, String host, int port) {
      this.service = service;
      this.host = host;
      this.port = port;
      this.id = (host == null ? "null" : host) + ":" + port;
    }

    public Builder id(String id) {
      this.id = id;
      return this;
    }

    public Builder zone(String zone) {
      this.zone = Objects.requireNonNull(zone, "zone");
      return this;
    }

    public Builder weight(int weight) {
      this.weight = weight;
      return this;
    }

    public Builder metadata(Map<String, String> metadata) {
      this.metadata = Objects.requireNonNull(metadata, "metadata");
      return this;
    }

    public Builder draining(boolean draining) {
      this.draining = draining;
      return this;
    }

    /** Validates and returns the instance. */
    public ServiceInstance build() {
      return new ServiceInstance(service, id, host, port, zone, weight, metadata, draining);
    }
  }
}
