package dev.switchboard.lb;

import java.util.List;

/**
 * No member of the call's {@link Subset} can take the call: none is registered with matching
 * metadata, or every matching one is ineligible, saturated or already tried. The message names the
 * subset and, for each member, its values for the subset's keys and why it was not eligible:
 *
 * <pre>
 * No healthy endpoint for service 'echo': no member matches subset {version=3}; members have
 * 10.0.0.1:9090 {version=1}, 10.0.0.2:9090 {version=2} [10.0.0.1:9090 eligible; ...]
 * </pre>
 */
public class NoMatchingEndpointException extends NoHealthyEndpointException {
  private static final long serialVersionUID = 1L;

  private final transient Subset subset;

  /**
   * @param why why the matching members, if any, could not take the call (for example "every
   *     matching member is saturated")
   */
  public NoMatchingEndpointException(
      String service, Subset subset, String why, List<EndpointSnapshot> members) {
    super(service, detail(subset, why, members), members);
    this.subset = subset;
  }

  /** The subset no member could serve. */
  public Subset subset() {
    return subset;
  }

  private static String detail(Subset subset, String why, List<EndpointSnapshot> members) {
    long matching = members.stream().filter(m -> subset.matches(m.instance())).count();
    StringBuilder sb = new StringBuilder();
    if (matching == 0) {
      sb.append("no member matches subset ").append(subset);
    } else {
      sb.append("none of the ")
          .append(matching)
          .append(matching == 1 ? " member" : " members")
          .append(" matching subset ")
          .append(subset)
          .append(" can take the call (")
          .append(why)
          .append(')');
    }
    sb.append("; members have ");
    if (members.isEmpty()) {
      sb.append("(no members)");
    }
    for (int i = 0; i < members.size(); i++) {
      EndpointSnapshot m = members.get(i);
      sb.append(i == 0 ? "" : ", ").append(m.address()).append(' ');
      sb.append(subset.describe(m.instance()));
    }
    return sb.toString();
  }
}
