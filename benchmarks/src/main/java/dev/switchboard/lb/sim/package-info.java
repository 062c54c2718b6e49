/**
 * A deterministic discrete-event simulator of client-side load balancing: K clients × N servers in
 * virtual time, driving lb-api's pickers and endpoint load tracking. Entry point: {@link
 * dev.switchboard.lb.sim.Simulator}.
 */
@NullMarked
package dev.switchboard.lb.sim;

import org.jspecify.annotations.NullMarked;
