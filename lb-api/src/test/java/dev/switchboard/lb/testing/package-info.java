/**
 * A network fault lab for tests and benchmarks: {@link dev.switchboard.lb.testing.NetworkLab} runs
 * processes on hosts inside Linux network namespaces and black-holes, partitions or degrades their
 * links with nftables. Published in lb-api's test-jar.
 */
@NullMarked
package dev.switchboard.lb.testing;

import org.jspecify.annotations.NullMarked;
