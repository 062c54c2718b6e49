/** Placeholder until this module's issue lands. */
@NullMarked
package dev.switchboard.lb.thrift;

import org.jspecify.annotations.NullMarked;
