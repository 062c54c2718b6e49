package dev.switchboard.lb.http;

import java.net.http.HttpRequest;
import java.net.http.HttpRequest.BodyPublisher;
import java.util.Optional;
import java.util.Set;

/*
 * Which bodies can be sent twice
 * ------------------------------
 * A retry subscribes to the request's BodyPublisher again. The JDK's publishers for byte arrays,
 * strings, files, iterables of byte arrays and no body produce the same bytes on every
 * subscription. BodyPublishers.ofInputStream calls its supplier once per subscription, and a
 * supplier that hands out the same stream twice sends a truncated body the second time;
 * fromPublisher wraps an arbitrary Flow.Publisher, which may not support a second subscriber;
 * concat is as replayable as its parts, which it does not expose. A BodyPublisher cannot say which
 * kind it is, so the JDK's classes are recognised by name and everything else counts as not
 * replayable: the safe default is "no retry", explained in the log and on the failure.
 */

/** Tells whether a request's body can be sent again on a retry. Stateless. */
final class BodyReplay {
  private static final Set<String> REPLAYABLE =
      Set.of(
          "jdk.internal.net.http.RequestPublishers$ByteArrayPublisher",
          "jdk.internal.net.http.RequestPublishers$StringPublisher",
          "jdk.internal.net.http.RequestPublishers$EmptyPublisher",
          "jdk.internal.net.http.RequestPublishers$FilePublisher",
          "jdk.internal.net.http.RequestPublishers$IterablePublisher");

  private BodyReplay() {}

  /** Whether {@code request}'s body (if any) can be sent again. */
  static boolean isReplayable(HttpRequest request) {
    Optional<BodyPublisher> body = request.bodyPublisher();
    return body.isEmpty() || REPLAYABLE.contains(body.get().getClass().getName());
  }

  /** A short name of the body publisher's kind, for messages. */
  static String describe(HttpRequest request) {
    return request.bodyPublisher().map(p -> p.getClass().getSimpleName()).orElse("no body");
  }
}
