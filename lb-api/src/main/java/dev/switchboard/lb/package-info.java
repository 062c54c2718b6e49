/**
 * Client-side load balancing: the model ({@link dev.switchboard.lb.ServiceInstance}), the cluster
 * that balances calls over a service's instances ({@link dev.switchboard.lb.Cluster}), and the
 * leases that carry one call's outcome back into it ({@link dev.switchboard.lb.Lease}).
 */
@NullMarked
package dev.switchboard.lb;

import org.jspecify.annotations.NullMarked;
