package io.pgha.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.bus.Addresses;
import io.pgha.config.Values;
import io.vertx.core.AsyncResult;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.Iterator;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code POST /restart}, {@code DELETE /restart}, {@code POST /reinitialize} and {@code POST /reload}
 * (patroni-compat §5.9, §5.10). Bodies are validated here as Patroni's handlers do, with its messages; the work is
 * the HA loop's, asked by request/reply on the local bus ({@link Addresses#HA_RESTART},
 * {@link Addresses#HA_REINITIALIZE}, {@link Addresses#HA_RELOAD}) whose reply {@code {"status", "message"}} is the
 * HTTP answer. No handler on the bus, or no reply in time, is a 503 with a one-line message.
 */
public final class OperationRoutes {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.api");
  private static final ObjectMapper JSON_VALUE = new ObjectMapper();
  private static final Set<String> ROLES = Set.of("primary", "standby_leader", "replica");

  /**
   * How long to wait for the HA loop's reply.
   *
   * @param replyTimeoutMs reinitialize, reload, cancel, and scheduling a restart: each only starts or records work
   * @param restartReplyTimeoutMs an immediate restart without {@code timeout}: the reply comes when postgres is back
   * @param restartMarginMs added to an immediate restart's {@code timeout}: stop, checkpoint, and the reply itself
   */
  record Settings(long replyTimeoutMs, long restartReplyTimeoutMs, long restartMarginMs, LongSupplier clockMs) {
    /** Patroni blocks a restart request until postgres is up; 20 min covers {@code primary_start_timeout} (300 s). */
    static final Settings DEFAULT = new Settings(30_000, 20 * 60_000, 10 * 60_000, System::currentTimeMillis);
  }

  private final ApiVerticle api;
  private final Vertx vertx;
  private final Settings settings;

  private OperationRoutes(ApiVerticle api, Vertx vertx, Settings settings) {
    this.api = Objects.requireNonNull(api, "api");
    this.vertx = Objects.requireNonNull(vertx, "vertx");
    this.settings = Objects.requireNonNull(settings, "settings");
  }

  public static void install(ApiVerticle api, Vertx vertx) {
    install(api, vertx, Settings.DEFAULT);
  }

  static void install(ApiVerticle api, Vertx vertx, Settings settings) {
    OperationRoutes routes = new OperationRoutes(api, vertx, settings);
    api.route(HttpMethod.POST, "restart", routes::postRestart);
    api.route(HttpMethod.DELETE, "restart", routes::deleteRestart);
    api.route(HttpMethod.POST, "reinitialize", routes::postReinitialize);
    api.route(HttpMethod.POST, "reload", routes::postReload);
    api.route(HttpMethod.POST, "failsafe", routes::postFailsafe);
    api.route(HttpMethod.GET, "failsafe", routes::getFailsafe);
  }

  /**
   * Patroni's {@code GET /failsafe}: the {@code failsafe} key as this member last read it (member name to api_url),
   * 200, even while ZooKeeper is away (that is when it matters); 502 when there is none.
   */
  private void getFailsafe(HttpServerRequest req) {
    Map<String, String> topology = api.current().failsafeTopology();
    if (topology == null) {
      api.text(req, 502, "Bad Gateway: there is no failsafe key");
      return;
    }
    api.json(req, 200, Buffer.buffer(new JsonObject(new TreeMap<String, Object>(topology)).encode()));
  }

  /**
   * §10.2: a primary without ZooKeeper asks whether it may keep running. The HA loop answers (Patroni's statuses:
   * 200 {@code Accepted} with header {@code lsn}, 500 {@code Running as a leader}, 502 with failsafe mode off).
   */
  private void postFailsafe(HttpServerRequest req) {
    JsonBody.read(req, false).onFailure(failure -> api.fail(req, failure)).onSuccess(body -> {
      if (!body.path("name").isTextual() || body.get("name").asText().isEmpty()) {
        api.text(req, 400, "POST /failsafe needs the sender's name");
        return;
      }
      JsonObject ask = new JsonObject().put("name", body.get("name").asText())
          .put("conn_url", body.path("conn_url").isTextual() ? body.get("conn_url").asText() : null)
          .put("api_url", body.path("api_url").isTextual() ? body.get("api_url").asText() : null);
      send(Addresses.HA_FAILSAFE, ask, settings.replyTimeoutMs(), ar -> {
        if (ar.failed() || !(ar.result().body() instanceof JsonObject reply)) {
          relay(req, "failsafe", ar, null, null);
          return;
        }
        int status = reply.getInteger("status", 500);
        if (status == 200) req.response().putHeader("lsn", String.valueOf(reply.getLong("lsn", 0L)));
        api.text(req, status, reply.getString("message", ""));
      });
    });
  }

  private void postRestart(HttpServerRequest req) {
    JsonBody.read(req, true)
        .map(body -> validateRestart(body, api.current().paused(), Instant.ofEpochMilli(settings.clockMs().getAsLong())))
        .onFailure(failure -> api.fail(req, failure))
        .onSuccess(body -> {
          LOG.info("received restart request from {}: {}", ApiVerticle.client(req), body.encode());
          long timeoutMs = body.containsKey("schedule") ? settings.replyTimeoutMs()
              : body.getValue("timeout") instanceof Number t
                  ? t.longValue() * 1000 + settings.restartMarginMs()
                  : settings.restartReplyTimeoutMs();
          ask(req, "restart", Addresses.HA_RESTART, body, timeoutMs);
        });
  }

  /**
   * Patroni's checks of a {@code POST /restart} body, key by key in the body's order, first failure wins. Returns the
   * body to send to the HA loop: {@code schedule} as an ISO timestamp with offset, {@code timeout} in whole seconds,
   * the other keys as given.
   */
  static JsonObject validateRestart(ObjectNode request, boolean paused, Instant now) {
    if (paused && request.has("schedule")) {
      throw new RequestRejected(500, "Can't schedule restart in the paused state");
    }
    JsonObject body = new JsonObject();
    for (Iterator<Map.Entry<String, JsonNode>> it = request.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      String key = entry.getKey();
      JsonNode value = entry.getValue();
      switch (key) {
        case "schedule" -> {
          Schedules.Result at = Schedules.parse(value.isTextual() ? value.asText() : value, "restart", now);
          if (!at.ok()) {
            throw new RequestRejected(at.status(), at.error());
          }
          body.put(key, Schedules.isoformat(at.at()));
        }
        case "role" -> {
          if (!value.isTextual() || !ROLES.contains(value.asText())) {
            throw new RequestRejected(400, "PostgreSQL role should be either primary, standby_leader, or replica");
          }
          body.put(key, value.asText());
        }
        case "postgres_version" -> {
          String error = postgresVersionError(value.isTextual() ? value.asText() : value);
          if (error != null) {
            throw new RequestRejected(400, error);
          }
          body.put(key, value.asText());
        }
        case "timeout" -> {
          Long seconds = value.isTextual() || value.isNumber() ? seconds(value.asText()) : null;
          if (seconds == null || seconds <= 0) {
            throw new RequestRejected(400, "Timeout should be a positive number of seconds");
          }
          body.put(key, seconds);
        }
        // Patroni takes any truthy value; "True" or "1" from a client is as good as true, a list is a mistake
        case "restart_pending" -> body.put(key, Boolean.TRUE.equals(BodyValues.flag(value, key)));
        default -> throw new RequestRejected(400, "Unknown filter for the scheduled restart: " + key);
      }
    }
    return body;
  }

  /** Patroni's {@code postgres_version_to_int} errors: X.Y (X ≥ 10) or X.Y.Z, integer parts; null when valid. */
  public static String postgresVersionError(Object value) {
    String text = String.valueOf(value);
    if (!(value instanceof String)) {
      return "Invalid PostgreSQL version: " + text;
    }
    String[] parts = text.split("\\.", -1);
    int[] components = new int[parts.length];
    for (int i = 0; i < parts.length; i++) {
      try {
        components[i] = Integer.parseInt(parts[i].trim());
      } catch (NumberFormatException e) {
        return "Invalid PostgreSQL version: " + text;
      }
    }
    if (parts.length < 2 || parts.length == 2 && components[0] < 10 || parts.length > 3) {
      return "Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: " + text;
    }
    return null;
  }

  private static final Pattern DURATION = Pattern.compile("\\s*([+-]?(?:\\d+(?:\\.\\d*)?|\\.\\d+))\\s*(\\S*)\\s*");

  /**
   * Patroni's {@code parse_int(value, 's')}: a number, optionally with a time unit ({@code us}, {@code ms}, {@code s},
   * {@code min}, {@code h}, {@code d}), rounded half to even to whole seconds; null when unparsable.
   */
  static Long seconds(String value) {
    if (value == null) {
      return null;
    }
    Matcher m = DURATION.matcher(value);
    if (!m.matches()) {
      return null;
    }
    double number = Double.parseDouble(m.group(1));
    double factor;
    switch (m.group(2)) {
      case "" -> factor = 1;
      case "us" -> factor = 1e-6;
      case "ms" -> factor = 1e-3;
      case "s" -> factor = 1;
      case "min" -> factor = 60;
      case "h" -> factor = 3600;
      case "d" -> factor = 86400;
      default -> {
        return null;
      }
    }
    return (long) Math.rint(number * factor);
  }

  private void deleteRestart(HttpServerRequest req) {
    send(Addresses.HA_RESTART, new JsonObject().put("cancel", true), settings.replyTimeoutMs(), ar -> {
      if (ar.failed() && ar.cause() instanceof ReplyException e && e.failureType() == ReplyFailure.NO_HANDLERS) {
        api.text(req, 404, "no restarts are scheduled"); // only the HA loop can have scheduled one
      } else {
        relay(req, "cancel restart", ar, null, null);
      }
    });
  }

  private void postReinitialize(HttpServerRequest req) {
    JsonBody.read(req, true)
        .onFailure(failure -> api.fail(req, failure))
        .onSuccess(request -> {
          LOG.info("received reinitialize request from {}: {}", ApiVerticle.client(req), request);
          JsonObject body;
          try {
            body = new JsonObject()
                .put("force", Boolean.TRUE.equals(BodyValues.flag(request.get("force"), "force")))
                .put("from_leader", Boolean.TRUE.equals(BodyValues.flag(request.get("from_leader"), "from_leader")));
          } catch (RequestRejected e) {
            api.fail(req, e);
            return;
          }
          ask(req, "reinitialize", Addresses.HA_REINITIALIZE, body, settings.replyTimeoutMs());
        });
  }

  /** Patroni reads no body here; pgha reads it (bounded) and ignores it, refusing only one that is too large. */
  private void postReload(HttpServerRequest req) {
    JsonBody.read(req, true).onComplete(read -> {
      if (read.failed() && read.cause() instanceof RequestRejected r && (r.status() == 413 || r.status() == 500)) {
        api.fail(req, r);
        return;
      }
      LOG.info("received reload request from {}", ApiVerticle.client(req));
      send(Addresses.HA_RELOAD, new JsonObject(), settings.replyTimeoutMs(),
          ar -> relay(req, "reload", ar, 202, "reload scheduled"));
    });
  }

  private void ask(HttpServerRequest req, String operation, String address, JsonObject body, long timeoutMs) {
    send(address, body, timeoutMs, ar -> relay(req, operation, ar, null, null));
  }

  private void send(String address, JsonObject body, long timeoutMs,
      io.vertx.core.Handler<AsyncResult<Message<Object>>> handler) {
    vertx.eventBus().<Object>request(address, body, new DeliveryOptions().setLocalOnly(true).setSendTimeout(timeoutMs))
        .onComplete(handler);
  }

  /**
   * Answers with the HA loop's reply. A reply without a status uses {@code defaultStatus}/{@code defaultMessage} when
   * given; a failure reply of a restart is Patroni's exception path (400 {@code restart failed}).
   */
  private void relay(HttpServerRequest req, String operation, AsyncResult<Message<Object>> ar,
      Integer defaultStatus, String defaultMessage) {
    if (ar.failed()) {
      Throwable cause = ar.cause();
      ReplyFailure type = cause instanceof ReplyException e ? e.failureType() : null;
      if (type == ReplyFailure.NO_HANDLERS) {
        LOG.warn("{}: no handler on the bus", operation);
        api.text(req, 503, operation + " is not possible now: the HA loop is not running");
      } else if (type == ReplyFailure.TIMEOUT) {
        LOG.warn("{}: no reply from the HA loop in time", operation);
        api.text(req, 503, operation + " status unknown: the HA loop did not answer in time");
      } else if (operation.equals("restart")) {
        LOG.warn("restart failed: {}", String.valueOf(cause.getMessage()));
        api.text(req, 400, "restart failed");
      } else {
        LOG.warn("{} failed: {}", operation, String.valueOf(cause.getMessage()));
        api.text(req, 503, operation + " failed: " + RequestRejected.oneLine(String.valueOf(cause.getMessage())));
      }
      return;
    }
    Object reply = ar.result().body();
    JsonObject json = reply instanceof JsonObject j ? j : null;
    Object status = json == null ? null : json.getValue("status");
    Object message = json == null ? null : json.getValue("message");
    if (status == null && defaultStatus != null) {
      status = defaultStatus;
      message = message == null ? defaultMessage : message;
    }
    if (!(status instanceof Number code) || code.intValue() < 100 || code.intValue() > 599
        || !(message instanceof String text)) {
      LOG.warn("{}: malformed reply from the HA loop: {}", operation, reply);
      api.text(req, 503, operation + " status unknown: malformed reply from the HA loop");
      return;
    }
    LOG.info("{}: {} {}", operation, code, text);
    api.text(req, code.intValue(), text);
  }


}
