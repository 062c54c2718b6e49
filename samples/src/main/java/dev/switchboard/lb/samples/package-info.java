/** Placeholder until this module's issue lands. */
@NullMarked
package dev.switchboard.lb.samples;

import org.jspecify.annotations.NullMarked;
