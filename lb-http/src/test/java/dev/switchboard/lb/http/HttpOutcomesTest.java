package dev.switchboard.lb.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.switchboard.lb.Outcome;
import java.io.EOFException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.UnknownHostException;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpTimeoutException;
import java.nio.channels.UnresolvedAddressException;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletionException;
import javax.net.ssl.SSLHandshakeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class HttpOutcomesTest {

  @ParameterizedTest
  @CsvSource({
    "200, SUCCESS",
    "204, SUCCESS",
    "304, SUCCESS",
    "400, APPLICATION_ERROR",
    "404, APPLICATION_ERROR",
    "429, APPLICATION_ERROR",
    "500, APPLICATION_ERROR",
    "501, APPLICATION_ERROR",
    "502, TRANSPORT_FAILURE",
    "503, OVERLOADED",
    "504, TIMEOUT"
  })
  void ofStatus(int status, Outcome expected) {
    assertThat(HttpOutcomes.ofStatus(status)).isEqualTo(expected);
  }

  @Test
  void ofError_nothingSent_isConnectFailure() {
    assertThat(HttpOutcomes.ofError(new ConnectException("refused")))
        .isEqualTo(Outcome.CONNECT_FAILURE);
    assertThat(HttpOutcomes.ofError(new HttpConnectTimeoutException("slow connect")))
        .isEqualTo(Outcome.CONNECT_FAILURE);
    assertThat(HttpOutcomes.ofError(new UnknownHostException("nowhere")))
        .isEqualTo(Outcome.CONNECT_FAILURE);
    assertThat(HttpOutcomes.ofError(new IOException(new UnresolvedAddressException())))
        .isEqualTo(Outcome.CONNECT_FAILURE);
    assertThat(HttpOutcomes.ofError(new SSLHandshakeException("untrusted")))
        .isEqualTo(Outcome.CONNECT_FAILURE);
    assertThat(HttpOutcomes.ofError(new CompletionException(new ConnectException("refused"))))
        .isEqualTo(Outcome.CONNECT_FAILURE);
  }

  @Test
  void ofError_afterSending() {
    assertThat(HttpOutcomes.ofError(new HttpTimeoutException("request timed out")))
        .isEqualTo(Outcome.TIMEOUT);
    assertThat(HttpOutcomes.ofError(new EOFException("EOF reached while reading")))
        .isEqualTo(Outcome.TRANSPORT_FAILURE);
    assertThat(HttpOutcomes.ofError(new IOException("header parser received no bytes")))
        .isEqualTo(Outcome.TRANSPORT_FAILURE);
  }

  @Test
  void ofError_callerOrProgrammingError_isCancelledSoTheEndpointIsNotBlamed() {
    assertThat(HttpOutcomes.ofError(new InterruptedException())).isEqualTo(Outcome.CANCELLED);
    assertThat(HttpOutcomes.ofError(new CancellationException())).isEqualTo(Outcome.CANCELLED);
    assertThat(HttpOutcomes.ofError(new IllegalStateException("interceptor bug")))
        .isEqualTo(Outcome.CANCELLED);
  }
}
