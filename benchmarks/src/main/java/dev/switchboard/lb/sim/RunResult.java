package dev.switchboard.lb.sim;

/**
 * What one run (one scenario, one policy) measured. Latencies are virtual nanoseconds from the
 * client's pick to the reply; shares are fractions of the calls picked in the stated window.
 *
 * @param p50Nanos median latency
 * @param p99Nanos 99th percentile latency
 * @param p999Nanos 99.9th percentile latency
 * @param maxLatencyNanos the slowest call
 * @param maxMinRatio the busiest regular server's calls over the idlest one's (regular servers: all
 *     but the slow or flapping one; for scale-out, all servers from one second after the scale-out
 *     on)
 * @param coefficientOfVariation standard deviation over mean of the regular servers' calls
 * @param slowShare the slow server's share of all calls (NaN outside the slow scenario)
 * @param flapperShare the flapping server's share of all calls (NaN outside flapping)
 * @param newShareFirstSecond the new servers' share of the calls picked in the first second after
 *     the scale-out (NaN outside scale-out; an even spread gives 0.5)
 * @param utilisation the offered load, a fraction of the nominal capacity
 * @param probes Prequal probes sent (0 for the other policies)
 * @param issued calls issued
 * @param completed calls completed (each exactly once, else the run fails)
 * @param timedOut calls completed as timeouts (their servers still served them, to no one)
 * @param servedByServers calls the servers finished, summed over servers
 * @param finishedAfterLeaving calls that finished on an endpoint their client had already dropped
 * @param leftInFlight in-flight count summed over every endpoint any client ever made, at the end
 * @param endpointsCreated endpoints the clients made (one per client and member, plus rejoins)
 * @param virtualNanos virtual time when the last call finished
 * @param events events processed
 */
record RunResult(
    Scenario scenario,
    String policy,
    double utilisation,
    long p50Nanos,
    long p99Nanos,
    long p999Nanos,
    long maxLatencyNanos,
    double maxMinRatio,
    double coefficientOfVariation,
    double slowShare,
    double flapperShare,
    double newShareFirstSecond,
    long probes,
    long issued,
    long completed,
    long timedOut,
    long servedByServers,
    long finishedAfterLeaving,
    long leftInFlight,
    int endpointsCreated,
    long virtualNanos,
    long events) {}
