/**
 * The end-to-end benchmark: Switchboard against a direct connection and HAProxy, with echo servers
 * in separate JVMs, under steady load and under failures. Entry point: {@link
 * dev.switchboard.lb.e2e.EndToEnd}.
 */
@NullMarked
package dev.switchboard.lb.e2e;

import org.jspecify.annotations.NullMarked;
