package dev.switchboard.lb.thrift;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class ConnectTimesTest {
  private static final long MS = TimeUnit.MILLISECONDS.toNanos(1);
  private static final long TIMEOUT = 1_000 * MS;

  @Test
  void boundNanos_noConnectSeen_isTheWholeTimeout() {
    assertThat(new ConnectTimes().boundNanos(TIMEOUT)).isEqualTo(TIMEOUT);
  }

  @Test
  void boundNanos_fastConnects_isTheFloor() {
    ConnectTimes times = new ConnectTimes();
    times.record(MS / 5); // 0.2 ms, a LAN round trip
    assertThat(times.boundNanos(TIMEOUT)).isEqualTo(ConnectTimes.FLOOR_NANOS);
  }

  @Test
  void boundNanos_slowConnects_isAMultipleOfThem_atMostTheTimeout() {
    ConnectTimes times = new ConnectTimes();
    times.record(80 * MS); // a distant region
    assertThat(times.boundNanos(TIMEOUT)).isEqualTo(ConnectTimes.MULTIPLE * 80 * MS);
    times.record(400 * MS);
    assertThat(times.boundNanos(TIMEOUT)).isEqualTo(TIMEOUT);
  }

  @Test
  void record_peakRisesAtOnce_decaysGradually() {
    ConnectTimes times = new ConnectTimes();
    times.record(MS);
    times.record(200 * MS);
    assertThat(times.peakNanos()).isEqualTo(200 * MS);
    times.record(MS);
    assertThat(times.peakNanos()).isBetween(150 * MS, 199 * MS); // 1/8 of the gap per connect
    for (int i = 0; i < 100; i++) {
      times.record(MS);
    }
    assertThat(times.peakNanos()).isLessThan(2 * MS);
  }
}
