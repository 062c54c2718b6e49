package dev.switchboard.lb;

/**
 * Chooses one endpoint per call from an immutable set of {@link Candidates}. A picker is built on
 * the cluster's serial executor and then used concurrently by every caller until the next rebuild
 * replaces it.
 *
 * <p>Implementations must be thread-safe, must never block or take a lock, should allocate nothing,
 * and must skip candidates the call has excluded ({@link PickArgs#isExcluded}) while another
 * candidate exists. They never return null: {@link PickResult#none()} when nothing is available.
 */
@FunctionalInterface
public interface Picker {

  /**
   * Picks an endpoint for one call.
   *
   * @param args the call; its exclusions must be honoured
   * @param nowNanos the cluster ticker's reading for this call (read once by the caller)
   */
  PickResult pick(PickArgs args, long nowNanos);
}
