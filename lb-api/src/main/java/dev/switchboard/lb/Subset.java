package dev.switchboard.lb;

import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Which members a call may go to, by their registered metadata: those whose {@link
 * ServiceInstance#metadata()} holds every pair of the subset ({@code version=2}, {@code
 * canary=true}, {@code tenant=acme}). Set it on a call with {@link CallContext.Builder#subset}; the
 * balancer then picks among the matching candidates only, never falls back to the others, and fails
 * the call with {@link NoMatchingEndpointException} when none of them can take it.
 *
 * <pre>{@code
 * CallContext ctx = CallContext.builder().subset(Subset.of("version", "2")).build();
 * }</pre>
 *
 * <p>Immutable and thread-safe.
 */
public final class Subset {
  /** Every member: the subset of a call that restricts nothing. */
  public static final Subset ALL = new Subset(Map.of());

  private final Map<String, String> pairs;
  private final String[] keys;
  private final String[] values;

  private Subset(Map<String, String> pairs) {
    this.pairs = pairs;
    this.keys = pairs.keySet().toArray(new String[0]);
    this.values = new String[keys.length];
    for (int i = 0; i < keys.length; i++) {
      values[i] = pairs.get(keys[i]);
    }
  }

  /**
   * Members whose metadata holds every pair of {@code pairs}; an empty map is {@link #ALL}.
   *
   * @throws IllegalArgumentException if a key or value is null or a key is blank
   */
  public static Subset of(Map<String, String> pairs) {
    Objects.requireNonNull(pairs, "pairs");
    Map<String, String> sorted = new TreeMap<>();
    for (Map.Entry<String, String> e : pairs.entrySet()) {
      if (e.getKey() == null || e.getKey().isBlank() || e.getValue() == null) {
        throw new IllegalArgumentException(
            "a subset needs non-blank keys and non-null values but had " + e);
      }
      sorted.put(e.getKey(), e.getValue());
    }
    return sorted.isEmpty() ? ALL : new Subset(java.util.Collections.unmodifiableMap(sorted));
  }

  /** Members whose metadata maps {@code key} to {@code value}. */
  public static Subset of(String key, String value) {
    return of(Map.of(key, value));
  }

  /**
   * This subset with {@code other}'s pairs added; where both name a key, {@code other}'s value wins
   * (a call's own subset refines its client's).
   */
  public Subset with(Subset other) {
    if (other.pairs.isEmpty()) {
      return this;
    }
    if (pairs.isEmpty()) {
      return other;
    }
    Map<String, String> merged = new TreeMap<>(pairs);
    merged.putAll(other.pairs);
    return new Subset(java.util.Collections.unmodifiableMap(merged));
  }

  /** Whether this subset restricts nothing. */
  public boolean isAll() {
    return keys.length == 0;
  }

  /** The pairs a member's metadata must hold, sorted by key; unmodifiable. */
  public Map<String, String> pairs() {
    return pairs;
  }

  /** Whether {@code instance}'s metadata holds every pair of this subset. Allocation-free. */
  public boolean matches(ServiceInstance instance) {
    Map<String, String> metadata = instance.metadata();
    for (int i = 0; i < keys.length; i++) {
      if (!values[i].equals(metadata.get(keys[i]))) {
        return false;
      }
    }
    return true;
  }

  /**
   * {@code instance}'s values for this subset's keys, for messages: {@code {version=1,
   * tenant=(none)}}.
   */
  String describe(ServiceInstance instance) {
    StringBuilder sb = new StringBuilder("{");
    for (int i = 0; i < keys.length; i++) {
      String v = instance.metadata().get(keys[i]);
      sb.append(i == 0 ? "" : ", ").append(keys[i]).append('=').append(v == null ? "(none)" : v);
    }
    return sb.append('}').toString();
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof Subset s && pairs.equals(s.pairs);
  }

  @Override
  public int hashCode() {
    return pairs.hashCode();
  }

  /** The pairs, as {@code {tenant=acme, version=2}}, or {@code {}} for {@link #ALL}. */
  @Override
  public String toString() {
    return pairs.toString();
  }
}
