/**
 * Client-side load balancing, in one package (as Caffeine's cache): the model ({@link
 * dev.switchboard.lb.ServiceInstance}), the cluster that balances calls over a service's instances
 * ({@link dev.switchboard.lb.Cluster}), the call engine that runs each call's attempts, retries and
 * hedges ({@link dev.switchboard.lb.Call}), the leases that carry an attempt's outcome back ({@link
 * dev.switchboard.lb.Lease}); the balancing policies ({@link dev.switchboard.lb.BalancingPolicy}:
 * round robin, least connections, peak EWMA, weighted random, consistent hashing, lock-free and
 * allocation-free on the pick path); active health checks ({@link dev.switchboard.lb.HealthCheck});
 * and the registry SPI ({@link dev.switchboard.lb.ServiceRegistry}) with {@link
 * dev.switchboard.lb.StaticRegistry} for fixed lists, tests and development; for the server
 * integrations, the address a server registers ({@link dev.switchboard.lb.AdvertisedAddress}) and
 * the one drain-then-stop sequence ({@link dev.switchboard.lb.GracefulShutdown}). Everything else
 * is package-private. The metrics binding and the status page live in {@code metrics} and {@code
 * status}, which depend on this package only.
 */
@NullMarked
package dev.switchboard.lb;

import org.jspecify.annotations.NullMarked;
