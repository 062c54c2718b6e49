/**
 * The README's code examples, compiled in the build so they never rot. The runnable demo is in
 * {@link dev.switchboard.lb.samples.demo}.
 */
@NullMarked
package dev.switchboard.lb.samples;

import org.jspecify.annotations.NullMarked;
