package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.net.http.HttpRequest.BodyPublishers;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Flow;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BodyReplayTest {
  private static HttpRequest post(BodyPublisher body) {
    return HttpRequest.newBuilder(URI.create("http://echo/x")).POST(body).build();
  }

  @Test
  void jdkPublishersOfFixedBytes_areReplayable(@TempDir Path dir) throws Exception {
    Path file = Files.writeString(dir.resolve("body.txt"), "hello");

    assertThat(BodyReplay.isReplayable(HttpRequest.newBuilder(URI.create("http://e/")).build()))
        .isTrue();
    assertThat(BodyReplay.isReplayable(post(BodyPublishers.ofString("x")))).isTrue();
    assertThat(BodyReplay.isReplayable(post(BodyPublishers.ofByteArray(new byte[3])))).isTrue();
    assertThat(BodyReplay.isReplayable(post(BodyPublishers.noBody()))).isTrue();
    assertThat(BodyReplay.isReplayable(post(BodyPublishers.ofFile(file)))).isTrue();
    assertThat(BodyReplay.isReplayable(post(BodyPublishers.ofByteArrays(List.of(new byte[1])))))
        .isTrue();
  }

  @Test
  void streamsAndForeignPublishers_areNot() {
    assertThat(
            BodyReplay.isReplayable(
                post(BodyPublishers.ofInputStream(() -> new ByteArrayInputStream(new byte[1])))))
        .isFalse();
    Flow.Publisher<ByteBuffer> flow = BodyPublishers.ofString("x");
    assertThat(BodyReplay.isReplayable(post(BodyPublishers.fromPublisher(flow)))).isFalse();
    BodyPublisher custom =
        new BodyPublisher() {
          @Override
          public long contentLength() {
            return 0;
          }

          @Override
          public void subscribe(Flow.Subscriber<? super ByteBuffer> subscriber) {
            BodyPublishers.noBody().subscribe(subscriber);
          }
        };
    assertThat(BodyReplay.isReplayable(post(custom))).isFalse();
    assertThat(
            BodyReplay.describe(
                post(BodyPublishers.ofInputStream(java.io.InputStream::nullInputStream))))
        .isEqualTo("InputStreamPublisher");
  }
}
