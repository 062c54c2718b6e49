package dev.switchboard.lb;

import java.util.Arrays;

/**
 * The endpoints a picker chooses among, with their effective weights (registered weight scaled by
 * slow start; always at least 1). Built by the cluster each time eligibility changes.
 *
 * <p>Immutable and thread-safe; the arrays are never exposed.
 */
public final class Candidates {
  private final Endpoint[] endpoints;
  private final int[] weights;
  private final long totalWeight;
  private final boolean uniformWeights;

  private Candidates(Endpoint[] endpoints, int[] weights) {
    if (endpoints.length != weights.length) {
      throw new IllegalArgumentException(
          endpoints.length + " endpoints but " + weights.length + " weights");
    }
    long total = 0;
    boolean uniform = true;
    for (int i = 0; i < weights.length; i++) {
      if (weights[i] < 1) {
        throw new IllegalArgumentException(
            "weight of " + endpoints[i].address() + " must be at least 1 but was " + weights[i]);
      }
      total += weights[i];
      uniform &= weights[i] == weights[0];
    }
    this.endpoints = endpoints;
    this.weights = weights;
    this.totalWeight = total;
    this.uniformWeights = uniform;
  }

  /** Candidates from parallel arrays (copied). */
  public static Candidates of(Endpoint[] endpoints, int[] weights) {
    return new Candidates(endpoints.clone(), weights.clone());
  }

  public int size() {
    return endpoints.length;
  }

  public boolean isEmpty() {
    return endpoints.length == 0;
  }

  public Endpoint endpoint(int i) {
    return endpoints[i];
  }

  public int weight(int i) {
    return weights[i];
  }

  public long totalWeight() {
    return totalWeight;
  }

  /** Whether every candidate has the same weight (pickers may take a faster path). */
  public boolean hasUniformWeights() {
    return uniformWeights;
  }

  /** A copy of the endpoints, in order. */
  public Endpoint[] endpoints() {
    return endpoints.clone();
  }

  /** A copy of the weights, in order. */
  public int[] weights() {
    return weights.clone();
  }

  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder("Candidates[");
    for (int i = 0; i < endpoints.length; i++) {
      sb.append(i == 0 ? "" : ", ").append(endpoints[i].address()).append('=').append(weights[i]);
    }
    return sb.append(']').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Candidates c
        && Arrays.equals(endpoints, c.endpoints)
        && Arrays.equals(weights, c.weights);
  }

  @Override
  public int hashCode() {
    return 31 * Arrays.hashCode(endpoints) + Arrays.hashCode(weights);
  }
}
