package dev.switchboard.lb.http;

import dev.switchboard.lb.ServiceInstance;
import java.net.ConnectException;
import java.net.URI;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/*
 * Addressing a service
 * --------------------
 * The JDK's HttpRequest accepts only http and https URIs (HttpRequestBuilderImpl.checkURI), so a
 * request cannot carry lb://echo/path itself. The logical address lb://{service}/{path}?{query}
 * is therefore written http://{service}/{path}?{query} in the request (the service name in the
 * host position, as Spring Cloud's @LoadBalanced clients do), and LoadBalancedHttpClient.newRequest
 * turns the lb:// form into it. Per attempt the host is replaced by the picked endpoint's address
 * and the scheme by the instance's "scheme" metadata; a request written https://{service}/...
 * insists on TLS whatever the metadata says (never downgraded).
 */

/**
 * A request's target: the service a cluster balances, whether TLS is required, and the path and
 * query (kept raw, so percent-encoding passes through unchanged) sent to the picked endpoint.
 * Immutable.
 */
record ServiceUri(String service, String rawPathAndQuery, boolean requireTls) {
  static final String SCHEME_KEY = "scheme";

  /**
   * Parses {@code lb://service/path?query}, {@code http://service/path?query} or {@code
   * https://service/path?query}.
   *
   * @throws IllegalArgumentException naming the problem otherwise
   */
  static ServiceUri parse(URI uri) {
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
    if (!scheme.equals("lb") && !scheme.equals("http") && !scheme.equals("https")) {
      throw bad(uri, "the scheme must be 'lb', 'http' or 'https'");
    }
    if (uri.isOpaque()) {
      throw bad(uri, "it has no '//' before the service name");
    }
    String authority = uri.getRawAuthority();
    if (authority == null || authority.isEmpty()) {
      throw bad(uri, "it names no service");
    }
    if (authority.indexOf('@') >= 0) {
      throw bad(uri, "user info is not allowed before the service name");
    }
    if (authority.indexOf(':') >= 0) {
      throw bad(uri, "a port is not allowed: the picked endpoint's port is used");
    }
    if (authority.indexOf('%') >= 0) {
      throw bad(uri, "the service name must not be percent-encoded");
    }
    if (scheme.equals("lb") && uri.getRawFragment() != null) {
      throw bad(uri, "a fragment ('#...') is never sent to the server");
    }
    String path = uri.getRawPath() == null || uri.getRawPath().isEmpty() ? "/" : uri.getRawPath();
    String query = uri.getRawQuery();
    return new ServiceUri(
        authority, query == null ? path : path + "?" + query, scheme.equals("https"));
  }

  private static IllegalArgumentException bad(URI uri, String why) {
    return new IllegalArgumentException(
        "request URI " + uri + " is not lb://{service}/{path}?{query}: " + why);
  }

  /**
   * The address a JDK request can carry: {@code http[s]://service/path?query}.
   *
   * @throws IllegalArgumentException if the service name cannot be a URI host name
   */
  URI logical() {
    URI uri = URI.create((requireTls ? "https" : "http") + "://" + service + rawPathAndQuery);
    if (!service.equals(uri.getHost())) {
      throw new IllegalArgumentException(
          "service name '"
              + service
              + "' cannot be the host of a java.net.http request URI: use letters, digits, '-'"
              + " and '.' only");
    }
    return uri;
  }

  /**
   * The URI of this target on {@code instance}: {@code https} if required, else the instance's
   * {@code scheme} metadata ({@code http} when absent).
   *
   * @throws ConnectException if the instance's scheme metadata is neither {@code http} nor {@code
   *     https} (nothing can be sent to it, so the call may go elsewhere)
   */
  URI on(ServiceInstance instance) throws ConnectException {
    String scheme = requireTls ? "https" : schemeOf(instance);
    return URI.create(scheme + "://" + instance.address() + rawPathAndQuery);
  }

  static String schemeOf(ServiceInstance instance) throws ConnectException {
    @Nullable String scheme = instance.metadata().get(SCHEME_KEY);
    if (scheme == null) {
      return "http";
    }
    String s = scheme.toLowerCase(Locale.ROOT);
    if (!s.equals("http") && !s.equals("https")) {
      throw new ConnectException(
          "instance "
              + instance.id()
              + " of service '"
              + instance.service()
              + "' has metadata scheme='"
              + scheme
              + "'; expected 'http' or 'https'");
    }
    return s;
  }
}
