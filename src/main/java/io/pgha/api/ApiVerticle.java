package io.pgha.api;

import io.pgha.bus.Addresses;
import io.pgha.config.RestApiConfig;
import io.pgha.model.NodeStatus;
import io.vertx.core.AsyncResult;
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
import org.slf4j.LoggerFactory;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * Patroni's REST API, health and status part (§5.1, §5.3-5.5). Answers from the latest {@link NodeStatus} the HA
 * loop published on {@link Addresses#HA_STATUS_CHANGED}: no request queries postgres or ZooKeeper, nothing blocks.
 *
 * <p>Routing as Patroni's: the method and the first path segment pick a handler ({@code GET /patroni},
 * {@code /liveness}, {@code /readiness}, or one added with {@link #route}); any other GET, and every HEAD and OPTIONS,
 * is a health check; any other method is 501.
 *
 * <p>Security (§5.2), when built with {@link #secured}: HTTPS from {@code restapi.certfile} ({@link ServerTls}), and
 * unsafe requests ({@code PATCH|PUT /config}, {@code POST /restart} ...) pass {@link AccessControl} (allowlist,
 * client certificate, basic auth) before their handler runs.
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
  private final RestApiConfig restApi;
  private final AccessControl access;
  private final Map<String, Handler<HttpServerRequest>> routes = new ConcurrentHashMap<>();
  private volatile Predicate<HttpServerRequest> filter;
  private volatile Snapshot current;
  private volatile HttpDate date = new HttpDate(-1, "");
  private HttpServer server;

  /**
   * A status and its body, swapped together. The body is rendered at the first request that wants it, not at every
   * HA cycle: an idle member may answer none between two cycles (two racing requests may both render it, the same).
   */
  private static final class Snapshot {
    private final NodeStatus status;
    private volatile Buffer body;

    Snapshot(NodeStatus status) {
      this.status = status;
    }

    NodeStatus status() {
      return status;
    }

    Buffer body() {
      Buffer b = body;
      if (b == null) {
        b = Buffer.buffer(StatusJson.render(status));
        body = b;
      }
      return b;
    }
  }

  private record HttpDate(long epochSecond, CharSequence text) {}

  public ApiVerticle(String listenHost, int listenPort, NodeStatus initial) {
    this(listenHost, listenPort, initial, System::currentTimeMillis);
  }

  /** @param clockMs epoch milliseconds, for {@code /liveness} and the {@code Date} header */
  public ApiVerticle(String listenHost, int listenPort, NodeStatus initial, LongSupplier clockMs) {
    this(listenHost, listenPort, initial, clockMs, null, null);
  }

  private ApiVerticle(String listenHost, int listenPort, NodeStatus initial, LongSupplier clockMs,
      RestApiConfig restApi, AccessControl access) {
    this.listenHost = listenHost == null || listenHost.isEmpty() || "*".equals(listenHost) ? "0.0.0.0" : listenHost;
    this.listenPort = listenPort;
    this.clockMs = Objects.requireNonNull(clockMs, "clockMs");
    this.restApi = restApi;
    this.access = access;
    update(Objects.requireNonNull(initial, "initial"));
  }

  /**
   * The API as {@code restapi} configures it: listen address, TLS ({@code certfile}, {@code keyfile},
   * {@code keyfile_password}, {@code cafile}, {@code verify_client}), {@code allowlist},
   * {@code allowlist_include_members} and {@code authentication}.
   *
   * @param memberHosts the hosts of the cluster members' {@code api_url}s (see {@link #apiUrlHosts}), asked on each
   *     unsafe request when {@code allowlist_include_members} is on; host names are resolved off the event loop
   */
  public static ApiVerticle secured(RestApiConfig cfg, NodeStatus initial, Supplier<Set<String>> memberHosts) {
    return secured(cfg, initial, memberHosts, System::currentTimeMillis);
  }

  static ApiVerticle secured(RestApiConfig cfg, NodeStatus initial, Supplier<Set<String>> memberHosts,
      LongSupplier clockMs) {
    Objects.requireNonNull(cfg, "cfg");
    return new ApiVerticle(cfg.listenHost(), cfg.listenPort(), initial, clockMs, cfg,
        new AccessControl(cfg, memberHosts));
  }

  /** The host part of each {@code api_url} (IP literal or name), for the {@code memberHosts} of {@link #secured}. */
  public static Set<String> apiUrlHosts(Collection<String> apiUrls) {
    return AccessControl.apiUrlHosts(apiUrls);
  }

  /**
   * Adds a handler for {@code method} and the first path segment (e.g. {@code GET}, {@code "cluster"}), as Patroni's
   * {@code do_<METHOD>_<segment>}. Call before deploying.
   */
  public ApiVerticle route(HttpMethod method, String firstSegment, Handler<HttpServerRequest> handler) {
    routes.put(method.name() + ' ' + firstSegment, Objects.requireNonNull(handler, "handler"));
    return this;
  }

  /**
   * Runs first on every request, before access control and routing: may add response headers (CORS), or answer the
   * request itself and return true (a CORS preflight). One filter; call before deploying.
   */
  public ApiVerticle filter(Predicate<HttpServerRequest> filter) {
    this.filter = Objects.requireNonNull(filter, "filter");
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
    // HTTP/1.1 only, as Patroni's server: Vert.x accepts an h2c upgrade by default, and the JDK's HttpClient (which
    // asks for one unless told not to) then sometimes never saw an answer (a 3 s request timeout hung for minutes)
    HttpServerOptions options = new HttpServerOptions().setTcpNoDelay(true).setHttp2ClearTextEnabled(false);
    Future<HttpServerOptions> ready = restApi == null || restApi.certfile() == null ? Future.succeededFuture(options)
        : vertx.executeBlocking(() -> ServerTls.apply(options, restApi)); // reads the key files
    return consumer.completion()
        .compose(v -> ready)
        .compose(o -> {
          server = vertx.createHttpServer(o);
          return server.requestHandler(this::handle).listen(listenPort, listenHost);
        });
  }

  private void update(NodeStatus status) {
    current = new Snapshot(status);
  }

  private void handle(HttpServerRequest req) {
    req.response().putHeader(io.pgha.Version.INSTANCE_HEADER, io.pgha.Version.INSTANCE);
    HttpMethod method = req.method();
    String path = req.path() == null ? "/" : req.path();
    String segment = firstSegment(path);
    Predicate<HttpServerRequest> f = filter;
    if (f != null && f.test(req)) {
      return;
    }
    if (access != null && AccessControl.isUnsafe(method, segment)) {
      Future<AccessControl.Denial> checked = access.check(vertx, req, segment);
      if (checked.isComplete()) {
        admit(req, method, path, segment, checked);
      } else {
        req.pause(); // host names are being resolved: keep the body for the handler
        checked.onComplete(ar -> {
          admit(req, method, path, segment, ar);
          req.resume();
        });
      }
      return;
    }
    dispatch(req, method, path, segment);
  }

  private void admit(HttpServerRequest req, HttpMethod method, String path, String segment,
      AsyncResult<AccessControl.Denial> checked) {
    AccessControl.Denial denial = checked.succeeded() ? checked.result()
        : new AccessControl.Denial(403, AccessControl.ACCESS_DENIED, false);
    if (denial == null) {
      dispatch(req, method, path, segment);
    } else {
      if (denial.challenge()) {
        req.response().putHeader("WWW-Authenticate", AccessControl.CHALLENGE);
      }
      text(req, denial.status(), denial.message());
    }
  }

  private void dispatch(HttpServerRequest req, HttpMethod method, String path, String segment) {
    Snapshot snap = current;
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

  /** A JSON reply with Patroni's headers (for routes added with {@link #route}). */
  void json(HttpServerRequest req, int code, Buffer body) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return; // the client went away while the answer was being prepared
    }
    resp.setStatusCode(code);
    resp.headers()
        .set(HttpHeaders.SERVER, SERVER_VALUE)
        .set(HttpHeaders.DATE, httpDate())
        .set(HttpHeaders.CONTENT_TYPE, JSON);
    resp.end(body);
  }

  /**
   * Answers a request whose handling failed: a {@link RequestRejected} with its own status (411/413 also close the
   * connection, since the refused body was not read whole), anything else as a logged 500.
   */
  void fail(HttpServerRequest req, Throwable e) {
    if (e instanceof RequestRejected r) {
      text(req, r.status(), r.getMessage(), r.status() == 411 || r.status() == 413);
    } else {
      LoggerFactory.getLogger(ApiVerticle.class).warn("{} {} failed: {}", req.method(), req.path(), e.toString());
      text(req, 500, "Internal Server Error: " + e.getMessage());
    }
  }

  /** The client's IP address, for log lines. */
  static String client(HttpServerRequest req) {
    return req.remoteAddress() == null ? "?" : req.remoteAddress().hostAddress();
  }

  /** A one-line message, sent as {@code text/html} like Patroni's {@code write_response}. */
  void text(HttpServerRequest req, int code, String message) {
    text(req, code, message, false);
  }

  /** @param close close the connection once the reply is sent */
  void text(HttpServerRequest req, int code, String message, boolean close) {
    HttpServerResponse resp = req.response();
    if (resp.ended() || resp.closed()) {
      return;
    }
    resp.setStatusCode(code);
    resp.headers()
        .set(HttpHeaders.SERVER, SERVER_VALUE)
        .set(HttpHeaders.DATE, httpDate())
        .set(HttpHeaders.CONTENT_TYPE, HTML);
    if (close) {
      resp.headers().set(HttpHeaders.CONNECTION, HttpHeaders.CLOSE);
    }
    Future<Void> sent =
        resp.end(RequestRejected.oneLine(message).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;"));
    if (close) {
      sent.onComplete(v -> req.connection().close());
    }
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
