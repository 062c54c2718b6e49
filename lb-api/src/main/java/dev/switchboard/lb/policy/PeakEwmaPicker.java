package dev.switchboard.lb.policy;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.PickResult;
import org.jspecify.annotations.Nullable;

/** Placeholder: first available candidate. Replaced by the real algorithm. */
final class PeakEwmaPicker implements Picker {
  private final Candidates candidates;

  private PeakEwmaPicker(Candidates candidates) {
    this.candidates = candidates;
  }

  static Picker create(Candidates candidates, @Nullable Picker previous) {
    return new PeakEwmaPicker(candidates);
  }

  @Override
  public PickResult pick(CallContext ctx, long nowNanos) {
    for (int i = 0; i < candidates.size(); i++) {
      Endpoint e = candidates.endpoint(i);
      if (!ctx.isExcluded(e)) {
        return e.asPickResult();
      }
    }
    return PickResult.none();
  }
}
