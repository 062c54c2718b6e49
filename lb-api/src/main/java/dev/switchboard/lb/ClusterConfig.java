package dev.switchboard.lb;

import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;
import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import java.time.Clock;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/** A cluster's validated settings, as built by {@link Cluster.Builder}. Immutable. */
record ClusterConfig(
    String service,
    ServiceRegistry registry,
    BalancingPolicy policy,
    String localZone,
    int zoneMinHealthyPercent,
    @Nullable CircuitBreakerConfig breakerConfig,
    OutlierDetection outlierDetection,
    @Nullable ActiveHealthCheck healthCheck,
    long slowStartNanos,
    int slowStartMinPercent,
    int panicThresholdPercent,
    RetryPolicy retryPolicy,
    int maxInFlightPerEndpoint,
    @Nullable RateLimiterConfig rateLimit,
    int massRemovalPercent,
    long massRemovalHoldNanos,
    long updateDebounceNanos,
    long firstMembersWaitNanos,
    long ewmaDecayNanos,
    long failurePenaltyNanos,
    ClusterListener listener,
    Ticker ticker,
    @Nullable Scheduler timer,
    @Nullable Clock breakerClock,
    @Nullable Function<? super Endpoint, ? extends AutoCloseable> resourceFactory) {}
