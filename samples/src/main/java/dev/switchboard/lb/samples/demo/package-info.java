/**
 * The runnable demo ({@code java -jar samples/target/switchboard-demo.jar}): an embedded ZooKeeper,
 * Thrift echo servers in their own JVMs registering through {@code @ThriftService}, and a client
 * balancing echo calls over them while one server is killed, one started and one drained.
 */
@NullMarked
package dev.switchboard.lb.samples.demo;

import org.jspecify.annotations.NullMarked;
