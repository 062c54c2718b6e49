package dev.switchboard.lb.samples.demo;

import java.time.Duration;

/**
 * When the demo does what, measured from the moment traffic starts. The steps sit at fixed
 * fractions of the run, so a shorter {@code --duration} plays the same story faster.
 *
 * @param killAt when one server process gets SIGKILL
 * @param startAt when a new server process is started
 * @param drainAt when another server is asked to drain and leave
 * @param end when traffic stops
 * @param slowStart the window over which a new server's weight ramps from 10% to 100%
 */
record Script(
    Duration killAt, Duration startAt, Duration drainAt, Duration end, Duration slowStart) {

  static Script scaledTo(Duration duration) {
    return new Script(
        percent(duration, 15),
        percent(duration, 35),
        percent(duration, 65),
        duration,
        percent(duration, 25));
  }

  private static Duration percent(Duration d, int percent) {
    return Duration.ofMillis(d.toMillis() * percent / 100);
  }
}
