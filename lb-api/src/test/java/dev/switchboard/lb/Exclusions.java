package dev.switchboard.lb;

import dev.switchboard.lb.BalancingPolicy.PickArgs;
import java.util.ArrayList;
import java.util.List;

/** Pick arguments with exclusions a test adds by hand, as the call engine's tried set. */
public final class Exclusions implements PickArgs {
  private final CallContext ctx;
  private final List<Endpoint> excluded = new ArrayList<>();

  private Exclusions(CallContext ctx) {
    this.ctx = ctx;
  }

  public static Exclusions of(CallContext ctx) {
    return new Exclusions(ctx);
  }

  public Exclusions exclude(Endpoint endpoint) {
    if (!excluded.contains(endpoint)) {
      excluded.add(endpoint);
    }
    return this;
  }

  @Override
  public CallContext context() {
    return ctx;
  }

  @Override
  public boolean isExcluded(Endpoint endpoint) {
    return excluded.contains(endpoint);
  }

  @Override
  public int excludedCount() {
    return excluded.size();
  }

  @Override
  public String toString() {
    return "Exclusions{" + ctx + ", " + excluded + "}";
  }
}
