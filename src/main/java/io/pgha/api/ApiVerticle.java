package io.pgha.api;

import io.pgha.bus.Addresses;
import io.pgha.ha.NodeStatus;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.MultiMap;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Patroni's REST API, health and status part (§5.1, §5.3-5.5). Answers from the latest {@link NodeStatus} the HA
 * loop published on {@link Addresses#HA_STATUS_CHANGED}: no request queries postgres or ZooKeeper, nothing blocks.
 *
 * <p>Routing as Patroni's: the method and the first path segment pick a handler ({@code GET /patroni},
 * {@code /liveness}, {@code /readiness}, or one added with {@link #route}); any other GET, and every HEAD and OPTIONS,
 * is a health check; any other method is 501.
 *
 * <p>Connections: HTTP/1.1 requests keep theirs (good for load generators). Vert.x itself closes the connection
 * after the response to an HTTP/1.0 request without {@code keep-alive} (as HAProxy's default {@code OPTIONS / HTTP/1.0}
 * check expects) and to {@code Connection: close} (then answering {@code Connection: close}).
 */
public final class ApiVerticle extends VerticleBase {
  static final String SERVER = "pgha";
  static final String NOT_SUPPORTED = "Server does not support this operation";

  private static final CharSequence JSON = HttpHeaders.createOptimized("application/json");
  private static final CharSequence HTML = HttpHeaders.createOptimized("text/html;charset=utf-8");
  private static final CharSequence SERVER_VALUE = HttpHeaders.createOptimized(SERVER);
  private static final DateTimeFormatter HTTP_DATE =
      DateTimeFormatter.ofPattern("EEE, dd MMM yyyy HH:mm:ss 'GMT'", Locale.US).withZone(ZoneOffset.UTC);

  private final String listenHost;
  private final int listenPort;
  private final LongSupplier clockMs;
  private final Map<String, Handler<HttpServerRequest>> routes = new ConcurrentHashMap<>();
  private volatile Snapshot current;
  private volatile HttpDate date = new HttpDate(-1, "");
  private HttpServer server;

  /** A status and its rendered body, swapped together. */
  private record Snapshot(NodeStatus status, Buffer body) {}

  private record HttpDate(long epochSecond, CharSequence text) {}

  public ApiVerticle(String listenHost, int listenPort, NodeStatus initial) {
    this(listenHost, listenPort, initial, System::currentTimeMillis);
  }

  /** @param clockMs epoch milliseconds, for {@code /liveness} and the {@code Date} header */
  public ApiVerticle(String listenHost, int listenPort, NodeStatus initial, LongSupplier clockMs) {
    this.listenHost = listenHost == null || listenHost.isEmpty() || "*".equals(listenHost) ? "0.0.0.0" : listenHost;
    this.listenPort = listenPort;
    this.clockMs = Objects.requireNonNull(clockMs, "clockMs");
    update(Objects.requireNonNull(initial, "initial"));
  }

  /**
   * Adds a handler for {@code method} and the first path segment (e.g. {@code GET}, {@code "cluster"}), as Patroni's
   * {@code do_<METHOD>_<segment>}. Call before deploying.
   */
  public ApiVerticle route(HttpMethod method, String firstSegment, Handler<HttpServerRequest> handler) {
    routes.put(method.name() + ' ' + firstSegment, Objects.requireNonNull(handler, "handler"));
    return this;
  }

  /** The snapshot requests are answered from. */
  public NodeStatus current() {
    return current.status();
  }

  /** The port the server listens on (the real one when started with port 0); -1 before it listens. */
  public int actualPort() {
    HttpServer s = server;
    return s == null ? -1 : s.actualPort();
  }

  @Override
  public Future<?> start() {
    var consumer = vertx.eventBus().<NodeStatus>localConsumer(Addresses.HA_STATUS_CHANGED, m -> update(m.body()));
    server = vertx.createHttpServer(new HttpServerOptions().setTcpNoDelay(true));
    return consumer.completion()
        .compose(v -> server.requestHandler(this::handle).listen(listenPort, listenHost));
  }

  private void update(NodeStatus status) {
    current = new Snapshot(status, Buffer.buffer(StatusJson.render(status)));
  }

  private void handle(HttpServerRequest req) {
    Snapshot snap = current;
    HttpMethod method = req.method();
    String path = req.path() == null ? "/" : req.path();
    String segment = firstSegment(path);
    Handler<HttpServerRequest> custom = routes.isEmpty() ? null : routes.get(method.name() + ' ' + segment);
    if (custom != null) {
      custom.handle(req);
    } else if (method == HttpMethod.GET && "patroni".equals(segment)) {
      json(req, HealthCheck.OK, snap.body());
    } else if (method == HttpMethod.GET && "liveness".equals(segment)) {
      statusOnly(req, Probes.liveness(snap.status(), clockMs.getAsLong()));
    } else if (method == HttpMethod.GET && "readiness".equals(segment)) {
      statusOnly(req, Probes.readiness(snap.status()));
    } else if (method == HttpMethod.GET || method == HttpMethod.HEAD || method == HttpMethod.OPTIONS) {
      int code = HealthCheck.status(path, query(req), snap.status());
      if (method == HttpMethod.GET) {
        json(req, code, snap.body());
      } else {
        statusOnly(req, code); // HAProxy reads the status line only
      }
    } else {
      notImplemented(req);
    }
  }

  /** Patroni's {@code path.lstrip('/').split('/')[0]}. */
  static String firstSegment(String path) {
    int start = 0;
    while (start < path.length() && path.charAt(start) == '/') {
      start++;
    }
    int end = path.indexOf('/', start);
    return path.substring(start, end < 0 ? path.length() : end);
  }

  private static Map<String, List<String>> query(HttpServerRequest req) {
    if (req.query() == null || req.query().isEmpty()) {
      return Map.of();
    }
    MultiMap params = req.params();
    Map<String, List<String>> query = new LinkedHashMap<>();
    for (String name : params.names()) {
      query.put(name, params.getAll(name));
    }
    return query;
  }

  private void json(HttpServerRequest req, int code, Buffer body) {
    HttpServerResponse resp = req.response().setStatusCode(code);
    resp.headers()
        .set(HttpHeaders.SERVER, SERVER_VALUE)
        .set(HttpHeaders.DATE, httpDate())
        .set(HttpHeaders.CONTENT_TYPE, JSON);
    resp.end(body);
  }

  /** Probes and HEAD/OPTIONS: a status line and no body (Patroni sends no headers at all). */
  private static void statusOnly(HttpServerRequest req, int code) {
    HttpServerResponse resp = req.response().setStatusCode(code);
    resp.end();
  }

  /** Python's {@code send_error(501)} page; patronictl looks for its explanation text. */
  private void notImplemented(HttpServerRequest req) {
    String body = "<!DOCTYPE HTML>\n<html lang=\"en\">\n    <head>\n        <meta charset=\"utf-8\">\n"
        + "        <title>Error response</title>\n    </head>\n    <body>\n        <h1>Error response</h1>\n"
        + "        <p>Error code: 501</p>\n        <p>Message: Unsupported method ('" + escape(req.method().name())
        + "').</p>\n        <p>Error code explanation: 501 - " + NOT_SUPPORTED + ".</p>\n    </body>\n</html>\n";
    HttpServerResponse resp = req.response().setStatusCode(501);
    resp.headers()
        .set(HttpHeaders.SERVER, SERVER_VALUE)
        .set(HttpHeaders.DATE, httpDate())
        .set(HttpHeaders.CONTENT_TYPE, HTML);
    resp.end(body);
  }

  private CharSequence httpDate() {
    long second = Math.floorDiv(clockMs.getAsLong(), 1000L);
    HttpDate d = date;
    if (d.epochSecond() != second) {
      d = new HttpDate(second, HttpHeaders.createOptimized(HTTP_DATE.format(Instant.ofEpochSecond(second))));
      date = d;
    }
    return d.text();
  }

  private static String escape(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        .replace("\"", "&quot;").replace("'", "&#x27;");
  }
}
