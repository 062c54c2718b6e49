package dev.switchboard.lb.consul.testing;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import org.jspecify.annotations.Nullable;

/**
 * One request the stand-in received, recorded when it arrived.
 *
 * @param nanos {@link System#nanoTime()} on arrival
 * @param method the HTTP method
 * @param path the decoded path, for example {@code /v1/agent/check/pass/service:echo-1}
 * @param query the raw query, empty if none
 * @param token the {@code X-Consul-Token} header, or null
 * @param body the request body as text
 */
public record RecordedRequest(
    long nanos, String method, String path, String query, @Nullable String token, String body) {

  /** The value of query parameter {@code name} (empty for a bare flag), or null if absent. */
  public @Nullable String queryParameter(String name) {
    for (String pair : query.split("&")) {
      int eq = pair.indexOf('=');
      String key = eq < 0 ? pair : pair.substring(0, eq);
      if (key.equals(name)) {
        return eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
