/** Placeholder until this module's issue lands. */
@NullMarked
package dev.switchboard.lb.http;

import org.jspecify.annotations.NullMarked;
