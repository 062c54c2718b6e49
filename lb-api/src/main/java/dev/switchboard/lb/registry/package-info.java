/**
 * The registry SPI: how instances register themselves and how clients watch a service's members,
 * with {@link dev.switchboard.lb.registry.StaticRegistry} for fixed lists, tests and development.
 */
@NullMarked
package dev.switchboard.lb.registry;

import org.jspecify.annotations.NullMarked;
