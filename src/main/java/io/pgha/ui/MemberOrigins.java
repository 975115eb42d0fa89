package io.pgha.ui;

import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * CORS for the web view, limited to the cluster's own members: a page served by one member keeps working when that
 * member dies by calling another member's API, which is another origin. A request whose {@code Origin} is the origin
 * of a member's {@code api_url} ({@code scheme://host[:port]}, as the DCS has it now or had it since this agent
 * started: a dead member's key expires, and the page it served must still reach the others) gets
 * {@code Access-Control-Allow-Origin} with that origin and {@code Allow-Credentials}; its preflight
 * ({@code OPTIONS} with {@code Access-Control-Request-Method}) is answered 204 here. Every other request is left as it
 * was: no CORS header, and {@code OPTIONS} stays Patroni's health check. Access control of unsafe requests
 * (allowlist, basic auth) still applies to the real request after the preflight.
 */
final class MemberOrigins {
  static final String ALLOW_METHODS = "GET, POST, PATCH, PUT, DELETE";
  static final String ALLOW_HEADERS = "Content-Type, Authorization";
  static final String MAX_AGE_SECONDS = "600";
  /** How many origins are remembered; the oldest seen goes first. */
  static final int REMEMBERED_MAX = 64;

  private final Supplier<? extends Iterable<String>> memberApiUrls;
  private final LinkedHashSet<String> seen = new LinkedHashSet<>();

  MemberOrigins(Supplier<? extends Iterable<String>> memberApiUrls) {
    this.memberApiUrls = Objects.requireNonNull(memberApiUrls, "memberApiUrls");
  }

  /** The API origins of the members now and of those seen before (at most {@link #REMEMBERED_MAX}). */
  synchronized List<String> current() {
    try {
      Iterable<String> urls = memberApiUrls.get();
      if (urls != null) {
        for (String url : urls) {
          String origin = origin(url);
          if (origin != null) {
            seen.remove(origin); // re-added last: the most recently seen stay
            seen.add(origin);
          }
        }
      }
    } catch (RuntimeException e) {
      // the members cannot be listed now: those seen before still count
    }
    while (seen.size() > REMEMBERED_MAX) {
      seen.remove(seen.iterator().next());
    }
    return List.copyOf(seen);
  }

  /** Adds the CORS headers for a member's origin; answers its preflight (then returns true). */
  boolean filter(HttpServerRequest req) {
    String origin = req.getHeader(HttpHeaders.ORIGIN);
    if (origin == null || !current().contains(origin.toLowerCase(Locale.ROOT))) {
      return false;
    }
    req.response()
        .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_ORIGIN, origin)
        .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_CREDENTIALS, "true")
        .putHeader(HttpHeaders.VARY, "Origin");
    if (req.method() != HttpMethod.OPTIONS || req.getHeader(HttpHeaders.ACCESS_CONTROL_REQUEST_METHOD) == null) {
      return false;
    }
    req.response().setStatusCode(204)
        .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_METHODS, ALLOW_METHODS)
        .putHeader(HttpHeaders.ACCESS_CONTROL_ALLOW_HEADERS, ALLOW_HEADERS)
        .putHeader(HttpHeaders.ACCESS_CONTROL_MAX_AGE, MAX_AGE_SECONDS)
        .end();
    return true;
  }

  /**
   * The origin of an {@code api_url} as a browser writes it in {@code Origin}: lower-case scheme and host, the port
   * only when it is not the scheme's default; null for anything but an absolute http(s) URL.
   */
  static String origin(String apiUrl) {
    if (apiUrl == null || apiUrl.isBlank()) {
      return null;
    }
    try {
      URI uri = new URI(apiUrl.trim());
      String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
      String host = uri.getHost();
      if (host == null || !("http".equals(scheme) || "https".equals(scheme))) {
        return null;
      }
      int port = uri.getPort();
      boolean defaultPort = port == -1 || ("http".equals(scheme) && port == 80)
          || ("https".equals(scheme) && port == 443);
      return scheme + "://" + host.toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port);
    } catch (URISyntaxException e) {
      return null;
    }
  }
}
