package dev.switchboard.lb.policy;

import dev.switchboard.lb.CallContext;
import dev.switchboard.lb.Endpoint;
import dev.switchboard.lb.PickResult;
import org.jspecify.annotations.Nullable;

/** Placeholder: first available candidate. Replaced by the real algorithm. */
final class WeightedRandomPicker implements Picker {
  private final Candidates candidates;

  private WeightedRandomPicker(Candidates candidates) {
    this.candidates = candidates;
  }

  static Picker create(Candidates candidates, @Nullable Picker previous) {
    return new WeightedRandomPicker(candidates);
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
