package dev.switchboard.lb;

/**
 * What a {@link dev.switchboard.lb.Picker} may know about the call it picks for: the call's {@link
 * CallContext} and the endpoints the call must avoid while another candidate exists (tried by its
 * earlier attempts, or refused during this pick). grpc-java's {@code PickSubchannelArgs}.
 *
 * <p>A {@link CallContext} is itself the arguments of a call that excludes nothing. The call engine
 * ({@link Call}) implements this for its attempts. Implementations are read by one picking thread
 * at a time.
 */
public interface PickArgs {
  /** The call's immutable context: hash key, deadline, idempotence, attributes. */
  CallContext context();

  /** Whether the pick must avoid {@code endpoint} while another candidate exists. */
  boolean isExcluded(Endpoint endpoint);

  /** How many endpoints the pick must avoid; 0 lets pickers skip {@link #isExcluded}. */
  int excludedCount();
}
