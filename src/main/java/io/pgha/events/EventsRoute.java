package io.pgha.events;

import io.pgha.api.ApiVerticle;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * {@code GET /events}: the whole cluster's events as Server-Sent Events ({@code text/event-stream}, chunked), one
 * {@code data: <json>} per event, and a comment {@code : ping} every 15 s so that proxies and clients see the stream
 * alive. A client too slow to keep up loses events (never the API's memory): an event is skipped while the
 * connection's write queue is full. Without an event stream (not started, or could not start) the answer is 503.
 */
public final class EventsRoute {
  public static final long HEARTBEAT_MS = 15_000;

  static final String CONTENT_TYPE = "text/event-stream";
  private static final Buffer PING = Buffer.buffer(": ping\n\n");
  private static final Buffer HELLO = Buffer.buffer(": pgha events\n\n");

  private EventsRoute() {}

  /** Serves {@code GET /events} from {@code stream} on {@code api}. */
  public static ApiVerticle install(ApiVerticle api, EventStream stream) {
    return install(api, () -> stream);
  }

  /**
   * Serves {@code GET /events} from whatever stream {@code stream} gives at request time (null: 503): lets the route
   * be added before the API is deployed while the event stream starts later, or never.
   */
  public static ApiVerticle install(ApiVerticle api, Supplier<EventStream> stream) {
    return install(api, stream, HEARTBEAT_MS);
  }

  static ApiVerticle install(ApiVerticle api, Supplier<EventStream> stream, long heartbeatMs) {
    Objects.requireNonNull(stream, "stream");
    return api.route(HttpMethod.GET, "events", req -> handle(req, stream.get(), heartbeatMs));
  }

  private static void handle(HttpServerRequest req, EventStream stream, long heartbeatMs) {
    HttpServerResponse resp = req.response();
    if (stream == null) {
      resp.setStatusCode(503)
          .putHeader(HttpHeaders.CONTENT_TYPE, "text/plain")
          .end("event stream not available\n");
      return;
    }
    Context context = Vertx.currentContext();
    Vertx vertx = context.owner();
    resp.setStatusCode(200)
        .setChunked(true)
        .putHeader(HttpHeaders.CONTENT_TYPE, CONTENT_TYPE)
        .putHeader(HttpHeaders.CACHE_CONTROL, "no-cache")
        .putHeader("X-Accel-Buffering", "no"); // nginx: do not buffer the stream
    resp.write(HELLO); // sends the head now, so that the client knows it is subscribed
    AtomicBoolean open = new AtomicBoolean(true);
    // called on the event stream's own event loop: hop to this connection's context before writing
    Handler<JsonObject> subscriber = event -> {
      if (!open.get()) {
        return;
      }
      Buffer frame = Buffer.buffer("data: " + event.encode() + "\n\n");
      context.runOnContext(v -> {
        if (open.get() && !resp.writeQueueFull()) {
          resp.write(frame);
        }
      });
    };
    long timer = vertx.setPeriodic(heartbeatMs, t -> {
      if (open.get() && !resp.writeQueueFull()) {
        resp.write(PING);
      }
    });
    Handler<Void> cleanup = v -> {
      if (open.compareAndSet(true, false)) {
        stream.unsubscribe(subscriber);
        vertx.cancelTimer(timer);
      }
    };
    resp.closeHandler(cleanup);
    resp.exceptionHandler(e -> cleanup.handle(null));
    stream.subscribe(subscriber);
  }
}
