/** Placeholder until this module's issue lands. */
@NullMarked
package dev.switchboard.lb.benchmarks;

import org.jspecify.annotations.NullMarked;
