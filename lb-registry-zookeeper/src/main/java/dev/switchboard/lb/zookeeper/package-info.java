/**
 * Service registry on ZooKeeper through Apache Curator: {@link
 * dev.switchboard.lb.zookeeper.ZooKeeperRegistry}, interoperable with Curator x-discovery and
 * Spring Cloud Zookeeper.
 */
@NullMarked
package dev.switchboard.lb.zookeeper;

import org.jspecify.annotations.NullMarked;
