package dev.switchboard.lb;

import java.util.List;

/**
 * No endpoint of a service can take a call now. The message names the service and, for each member,
 * why it was not eligible (circuit open, ejected, draining, saturated, weight 0, ...).
 */
public class NoHealthyEndpointException extends SwitchboardException {
  private static final long serialVersionUID = 1L;

  private final String service;
  private final transient List<EndpointSnapshot> members;

  public NoHealthyEndpointException(String service, String detail, List<EndpointSnapshot> members) {
    super(message(service, detail, members));
    this.service = service;
    this.members = List.copyOf(members);
  }

  /** The service that had no eligible endpoint. */
  public String service() {
    return service;
  }

  /** Every member as it was when the call failed. */
  public List<EndpointSnapshot> members() {
    return members;
  }

  private static String message(String service, String detail, List<EndpointSnapshot> members) {
    StringBuilder sb = new StringBuilder("No healthy endpoint for service '").append(service);
    sb.append("': ").append(detail);
    if (!members.isEmpty()) {
      sb.append(" [");
      for (int i = 0; i < members.size(); i++) {
        EndpointSnapshot m = members.get(i);
        sb.append(i == 0 ? "" : "; ").append(m.address()).append(' ');
        sb.append(m.eligibility().description());
        if (m.eligibility() == Eligibility.EJECTED) {
          sb.append(" for ").append(m.ejectionRemaining().toMillis()).append(" ms");
        }
      }
      sb.append(']');
    }
    return sb.toString();
  }
}
