/** Placeholder until this module's issue lands. */
@NullMarked
package dev.switchboard.lb.consul;

import org.jspecify.annotations.NullMarked;
