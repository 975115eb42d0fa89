package io.pgha.ui;

import io.pgha.api.ApiVerticle;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code GET /ui/}: the web view (issue 14), three static files read once from the jar ({@code io/pgha/ui/}) and kept
 * in memory. Only those names are served ({@code /ui/}, {@code /ui/index.html}, {@code /ui/app.js},
 * {@code /ui/app.css}); any other path under {@code /ui/}, {@code ../} included, is a 404, so nothing but these files
 * can ever be read through it. {@code /ui} redirects to {@code /ui/} so that the page's relative links resolve.
 *
 * <p>Caching: a strong {@code ETag} (a hash of the content) with {@code Cache-Control: no-cache}, so the browser
 * revalidates each load and gets a body-less 304 while the jar is unchanged, and an upgraded agent is seen at once.
 * Every answer carries a strict Content-Security-Policy: scripts, styles and images from this member only, no inline
 * code, no frames; {@code connect-src} adds the other members' API origins ({@link MemberOrigins}), the only places
 * the page may talk to when the serving member dies.
 */
public final class UiRoute {
  static final String PREFIX = "/ui/";
  static final String CACHE_CONTROL = "no-cache";
  private static final String RESOURCES = "io/pgha/ui/";

  /** One file: its bytes, content type and entity tag. */
  record Asset(Buffer body, String contentType, String etag) {}

  private final Map<String, Asset> assets;
  private final MemberOrigins origins;

  private UiRoute(Map<String, Asset> assets, MemberOrigins origins) {
    this.assets = assets;
    this.origins = origins;
  }

  /**
   * Serves the page on {@code api} and lets the pages served by the other members call this one (CORS, limited to
   * the origins of {@code memberApiUrls}, asked per request).
   */
  public static ApiVerticle install(ApiVerticle api, Supplier<? extends Iterable<String>> memberApiUrls) {
    MemberOrigins origins = new MemberOrigins(memberApiUrls);
    Asset index = load("index.html", "text/html;charset=utf-8");
    UiRoute route = new UiRoute(Map.of(
        "", index,
        "index.html", index,
        "app.js", load("app.js", "text/javascript;charset=utf-8"),
        "app.css", load("app.css", "text/css;charset=utf-8")), origins);
    return api.route(HttpMethod.GET, "ui", route::handle).filter(origins::filter);
  }

  private void handle(HttpServerRequest req) {
    HttpServerResponse resp = req.response();
    String path = req.path();
    securityHeaders(resp);
    if ("/ui".equals(path)) {
      String query = req.query();
      resp.setStatusCode(301).putHeader(HttpHeaders.LOCATION, PREFIX + (query == null ? "" : "?" + query)).end();
      return;
    }
    Asset asset = path.startsWith(PREFIX) ? assets.get(path.substring(PREFIX.length())) : null;
    if (asset == null) {
      resp.setStatusCode(404).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain;charset=utf-8").end("Not Found\n");
      return;
    }
    resp.putHeader(HttpHeaders.ETAG, asset.etag()).putHeader(HttpHeaders.CACHE_CONTROL, CACHE_CONTROL);
    if (matches(req.getHeader(HttpHeaders.IF_NONE_MATCH), asset.etag())) {
      resp.setStatusCode(304).end();
      return;
    }
    resp.setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, asset.contentType()).end(asset.body());
  }

  private void securityHeaders(HttpServerResponse resp) {
    resp.putHeader("Content-Security-Policy", contentSecurityPolicy(origins.current()))
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("X-Frame-Options", "DENY")
        .putHeader("Referrer-Policy", "no-referrer");
  }

  /** The page's policy: nothing from outside the member but API calls to the cluster's members. */
  static String contentSecurityPolicy(List<String> memberOrigins) {
    StringBuilder connect = new StringBuilder("'self'");
    memberOrigins.forEach(o -> connect.append(' ').append(o));
    return "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src " + connect
        + "; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
  }

  /** {@code If-None-Match}: a list of tags, or {@code *}; weak tags compare as strong ones (RFC 9110 §13.1.2). */
  static boolean matches(String ifNoneMatch, String etag) {
    if (ifNoneMatch == null) {
      return false;
    }
    for (String tag : ifNoneMatch.split(",")) {
      String t = tag.trim();
      if (t.startsWith("W/")) {
        t = t.substring(2);
      }
      if (t.equals("*") || t.equals(etag)) {
        return true;
      }
    }
    return false;
  }

  private static Asset load(String name, String contentType) {
    try (InputStream in = UiRoute.class.getClassLoader().getResourceAsStream(RESOURCES + name)) {
      Objects.requireNonNull(in, () -> "missing resource " + RESOURCES + name + " (a broken jar?)");
      byte[] bytes = in.readAllBytes();
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      String etag = '"' + HexFormat.of().formatHex(digest, 0, 12) + '"';
      return new Asset(Buffer.buffer(bytes), contentType, etag);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCES + name, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JVM has SHA-256
    }
  }
}
