/** Active health checks: the {@link dev.switchboard.lb.health.HealthCheck} SPI and a TCP check. */
@NullMarked
package dev.switchboard.lb.health;

import org.jspecify.annotations.NullMarked;
