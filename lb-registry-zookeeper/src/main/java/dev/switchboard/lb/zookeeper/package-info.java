/** Placeholder until this module's issue lands. */
@NullMarked
package dev.switchboard.lb.zookeeper;

import org.jspecify.annotations.NullMarked;
