package io.pgha.ui;

import io.pgha.api.ApiVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URL;
import java.net.URLConnection;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code GET /ui/}: the web view (issue 14), three static files read once from the jar ({@code io/pgha/ui/}) and kept
 * in memory, served by a Vert.x Web {@link Router} that the API hands every {@code GET} whose first path segment is
 * {@code ui} (Patroni's routes stay on the API's own routing). Only those names are served ({@code /ui/},
 * {@code /ui/index.html}, {@code /ui/app.js}, {@code /ui/app.css}); any other path under {@code /ui/}, {@code ../}
 * included, is a 404, so nothing but these files can ever be read through it. {@code /ui} redirects to {@code /ui/} so that the page's relative links resolve.
 *
 * <p>Caching: a strong {@code ETag} (a hash of the content) and {@code Last-Modified} (the file's time in the jar)
 * with {@code Cache-Control: no-cache}, so the browser revalidates each load and gets a body-less 304 while the jar
 * is unchanged ({@link RoutingContext#isFresh}: {@code If-None-Match}, {@code If-Modified-Since}), and an upgraded
 * agent is seen at once. Not Vert.x Web's {@code StaticHandler}: it reads a relative web root from the working
 * directory before the class path (a stray {@code io/pgha/ui/} there would be served), copies jar entries to a
 * temporary directory, and sends no {@code ETag}.
 * Every answer carries a strict Content-Security-Policy: scripts, styles and images from this member only, no inline
 * code, no frames; {@code connect-src} adds the other members' API origins ({@link MemberOrigins}), the only places
 * the page may talk to when the serving member dies.
 */
public final class UiRoute {
  static final String PREFIX = "/ui/";
  static final String CACHE_CONTROL = "no-cache";
  private static final String RESOURCES = "io/pgha/ui/";

  /** One file: its bytes, content type, entity tag and modification time. */
  record Asset(Buffer body, String contentType, String etag, String lastModified) {}

  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

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
  public static ApiVerticle install(Vertx vertx, ApiVerticle api, Supplier<? extends Iterable<String>> memberApiUrls) {
    MemberOrigins origins = new MemberOrigins(memberApiUrls);
    Asset index = load("index.html", "text/html;charset=utf-8");
    UiRoute route = new UiRoute(Map.of(
        "", index,
        "index.html", index,
        "app.js", load("app.js", "text/javascript;charset=utf-8"),
        "app.css", load("app.css", "text/css;charset=utf-8")), origins);
    return api.route(HttpMethod.GET, "ui", route.router(vertx)).filter(origins::filter);
  }

  /** The router for {@code GET /ui...}: security headers on every answer, the redirect, the files, else 404. */
  Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    router.route().handler(ctx -> {
      securityHeaders(ctx.response());
      ctx.next();
    });
    router.get("/ui").handler(UiRoute::redirect);
    router.get(PREFIX + "*").handler(this::serve);
    router.route().last().handler(UiRoute::notFound);
    router.errorHandler(400, UiRoute::notFound); // a path Vert.x Web cannot normalise: not one of the files either
    return router;
  }

  /** {@code /ui} exactly (Vert.x Web's {@code /ui} route also takes {@code /ui/}). */
  private static void redirect(RoutingContext ctx) {
    if (!"/ui".equals(ctx.request().path())) {
      ctx.next();
      return;
    }
    String query = ctx.request().query();
    ctx.response().setStatusCode(301).putHeader(HttpHeaders.LOCATION, PREFIX + (query == null ? "" : "?" + query))
        .end();
  }

  /** One of the files, looked up by the path exactly as sent (no normalisation: {@code /ui//app.js} is no file). */
  private void serve(RoutingContext ctx) {
    String path = ctx.request().path();
    Asset asset = path.startsWith(PREFIX) ? assets.get(path.substring(PREFIX.length())) : null;
    if (asset == null) {
      ctx.next();
      return;
    }
    HttpServerResponse resp = ctx.response();
    // not ctx.lastModified(): Vert.x Web writes a one-digit day ("5 Dec"), RFC 9110's IMF-fixdate has two
    resp.putHeader(HttpHeaders.ETAG, asset.etag()).putHeader(HttpHeaders.LAST_MODIFIED, asset.lastModified())
        .putHeader(HttpHeaders.CACHE_CONTROL, CACHE_CONTROL);
    if (ctx.isFresh()) {
      resp.setStatusCode(304).end();
      return;
    }
    resp.setStatusCode(200).putHeader(HttpHeaders.CONTENT_TYPE, asset.contentType()).end(asset.body());
  }

  private static void notFound(RoutingContext ctx) {
    ctx.response().setStatusCode(404).putHeader(HttpHeaders.CONTENT_TYPE, "text/plain;charset=utf-8")
        .end("Not Found\n");
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

  private static Asset load(String name, String contentType) {
    URL url = UiRoute.class.getClassLoader().getResource(RESOURCES + name);
    Objects.requireNonNull(url, () -> "missing resource " + RESOURCES + name + " (a broken jar?)");
    try {
      URLConnection connection = url.openConnection();
      connection.setUseCaches(false); // a jar kept open by the URL cache would never be closed
      byte[] bytes;
      try (InputStream in = connection.getInputStream()) {
        bytes = in.readAllBytes();
      }
      long modified = connection.getLastModified(); // the entry's time in the jar, the file's in a directory
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      String etag = '"' + HexFormat.of().formatHex(digest, 0, 12) + '"';
      Instant lastModified = modified > 0 ? Instant.ofEpochMilli(modified) : Instant.now();
      return new Asset(Buffer.buffer(bytes), contentType, etag, HTTP_DATE.format(lastModified));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + RESOURCES + name, e);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e); // every JVM has SHA-256
    }
  }
}
