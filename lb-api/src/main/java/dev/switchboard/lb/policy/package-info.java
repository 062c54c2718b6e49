/**
 * Balancing policies and their pickers: round robin, least connections, peak EWMA, weighted random
 * and consistent hashing, all lock-free and allocation-free on the pick path.
 */
@NullMarked
package dev.switchboard.lb.policy;

import org.jspecify.annotations.NullMarked;
