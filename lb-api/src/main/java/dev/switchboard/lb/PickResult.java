package dev.switchboard.lb;

/**
 * The result of one pick: an endpoint, or none because every candidate was unavailable (saturated,
 * already tried by this call, or no candidates at all). Never null; an endpoint's result is made
 * once and reused, so picking allocates nothing (grpc-java's {@code PickResult} shape).
 *
 * <p>Immutable and thread-safe.
 */
public final class PickResult {
  private static final PickResult NONE = new PickResult(null);

  private final Endpoint endpoint;

  private PickResult(Endpoint endpoint) {
    this.endpoint = endpoint;
  }

  static PickResult of(Endpoint endpoint) {
    return new PickResult(endpoint);
  }

  /** The result of a pick that found no available candidate. */
  public static PickResult none() {
    return NONE;
  }

  public boolean hasEndpoint() {
    return endpoint != null;
  }

  /**
   * The picked endpoint.
   *
   * @throws IllegalStateException if this result holds none
   */
  public Endpoint endpoint() {
    if (endpoint == null) {
      throw new IllegalStateException("no endpoint was picked");
    }
    return endpoint;
  }

  @Override
  public String toString() {
    return endpoint == null ? "PickResult{none}" : "PickResult{" + endpoint.address() + "}";
  }
}
