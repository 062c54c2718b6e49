package dev.switchboard.lb;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class LoadProbesTest {
  private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

  private record Answer(Endpoint endpoint, int rif, long latencyNanos) {}

  private final List<Answer> answers = new CopyOnWriteArrayList<>();
  private final Prequal.Replies replies =
      (endpoint, rif, latency, now) -> answers.add(new Answer(endpoint, rif, latency));
  private final Prequal.LoadTracker tracker = new Prequal.LoadTracker();
  private LoadProbes.Responder responder;
  private LoadProbes.UdpProber prober;

  @AfterEach
  void close() {
    if (responder != null) {
      responder.close();
    }
    if (prober != null) {
      prober.close();
    }
  }

  private static Endpoint member(int servicePort, Map<String, String> metadata) {
    return TestEndpoints.create(
        ServiceInstance.builder("svc", "127.0.0.1", servicePort).metadata(metadata).build(), 0);
  }

  @Test
  void probe_answeredWithTheServersRequestsInFlightAndLatency() throws Exception {
    responder = LoadProbes.respond(LOOPBACK, tracker);
    prober = LoadProbes.newProber();
    int level = tracker.begin();
    tracker.end(level, 3_000_000, System.nanoTime());
    for (int i = 0; i < 3; i++) {
      tracker.begin();
    }
    Endpoint e = member(9, Map.of(LoadProbes.METADATA_KEY, Integer.toString(responder.port())));

    prober.probe(e, replies);

    await().atMost(Duration.ofSeconds(10)).until(() -> answers.size() == 1);
    assertThat(answers.get(0)).isEqualTo(new Answer(e, 3, 3_000_000));
    assertThat(prober.sent()).isEqualTo(1);
    assertThat(prober.answered()).isEqualTo(1);
    assertThat(responder.answered()).isEqualTo(1);
  }

  @Test
  void membersWithoutOrWithABadProbePort_areNotProbed() throws Exception {
    prober = LoadProbes.newProber();

    prober.probe(member(9, Map.of()), replies);
    prober.probe(member(10, Map.of(LoadProbes.METADATA_KEY, "udp")), replies);
    prober.probe(member(11, Map.of(LoadProbes.METADATA_KEY, "70000")), replies);

    assertThat(prober.sent()).isZero();
  }

  @Test
  void responder_ignoresDatagramsThatAreNotProbes_andKeepsAnswering() throws Exception {
    responder = LoadProbes.respond(LOOPBACK, tracker);
    prober = LoadProbes.newProber();
    try (DatagramSocket stranger = new DatagramSocket(0, LOOPBACK)) {
      byte[] junk = "GET / HTTP/1.0\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
      stranger.send(new DatagramPacket(junk, junk.length, LOOPBACK, responder.port()));
      byte[] wrongMagic = new byte[LoadProbes.PROBE_BYTES];
      stranger.send(new DatagramPacket(wrongMagic, wrongMagic.length, LOOPBACK, responder.port()));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> responder.malformed() == 2);

    Endpoint e = member(9, Map.of(LoadProbes.METADATA_KEY, Integer.toString(responder.port())));
    prober.probe(e, replies);

    await().atMost(Duration.ofSeconds(10)).until(() -> answers.size() == 1);
    assertThat(responder.answered()).isEqualTo(1);
  }

  @Test
  void answerFromAStranger_isNotCreditedToAnyMember() throws Exception {
    prober = LoadProbes.newProber();
    responder = LoadProbes.respond(LOOPBACK, tracker);
    Endpoint e = member(9, Map.of(LoadProbes.METADATA_KEY, Integer.toString(responder.port())));
    prober.probe(e, replies); // sequence 0 is pending until its real answer arrives
    await().atMost(Duration.ofSeconds(10)).until(() -> answers.size() == 1);

    // A forged answer for a sequence never sent (or already answered) goes nowhere.
    java.nio.ByteBuffer forged =
        java.nio.ByteBuffer.allocate(LoadProbes.ANSWER_BYTES)
            .putInt(LoadProbes.MAGIC)
            .putLong(0)
            .putInt(0)
            .putLong(1);
    int proberPort = prober.localPort();
    try (DatagramSocket stranger = new DatagramSocket(0, LOOPBACK)) {
      stranger.send(new DatagramPacket(forged.array(), forged.capacity(), LOOPBACK, proberPort));
    }
    prober.probe(e, replies); // sequence 1: its answer arrives after the forged one
    await().atMost(Duration.ofSeconds(10)).until(() -> answers.size() == 2);
    assertThat(prober.answered()).isEqualTo(2);
    assertThat(answers).extracting(Answer::latencyNanos).doesNotContain(1L);
  }
}
