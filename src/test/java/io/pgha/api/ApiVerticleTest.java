package io.pgha.api;

import static io.pgha.api.Statuses.NOW_MS;
import static io.pgha.api.Statuses.leader;
import static io.pgha.api.Statuses.replica;
import static io.pgha.api.Statuses.with;
import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.bus.Addresses;
import io.pgha.bus.LocalCodec;
import io.pgha.model.NodeStatus;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.NetSocket;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class ApiVerticleTest {
  private final AtomicLong clock = new AtomicLong(NOW_MS);
  private Vertx vertx;
  private HttpClient client;
  private ApiVerticle api;
  private int port;

  private record Reply(int status, MultiMap headers, String body) {}

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    vertx.eventBus().registerDefaultCodec(NodeStatus.class, new LocalCodec<>(NodeStatus.class));
    api = new ApiVerticle("127.0.0.1", 0, leader(), clock::get);
    await(vertx.deployVerticle(api));
    port = api.actualPort();
    client = vertx.createHttpClient();
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  @Test
  void listensOnAnEphemeralPort() {
    assertThat(port).isPositive();
  }

  @Test
  void patroniIsTheStatusJson() throws Exception {
    Reply r = call(HttpMethod.GET, "/patroni");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("Content-Type")).isEqualTo("application/json");
    assertThat(r.headers().get("Server")).isEqualTo("pgha");
    assertThat(r.headers().get("Date")).isEqualTo("Tue, 24 Nov 2026 01:13:20 GMT");
    assertThat(json(r.body())).isEqualTo(json(new String(StatusJson.render(leader()))));
  }

  @Test
  void getHealthChecksAnswerWithTheStatusBody() throws Exception {
    Reply primary = call(HttpMethod.GET, "/primary");
    Reply replica = call(HttpMethod.GET, "/replica?lag=1MB");

    assertThat(primary.status()).isEqualTo(200);
    assertThat(replica.status()).isEqualTo(503);
    assertThat(replica.headers().get("Content-Type")).isEqualTo("application/json");
    assertThat(json(replica.body()).get("role").asText()).isEqualTo("primary");
    assertThat(call(HttpMethod.GET, "/").status()).isEqualTo(200);
    assertThat(call(HttpMethod.GET, "/read-only").status()).isEqualTo(200);
    assertThat(call(HttpMethod.GET, "/nonexistent").status()).isEqualTo(503);
  }

  @Test
  void headAndOptionsAnswerTheStatusLineOnly() throws Exception {
    Reply head = call(HttpMethod.HEAD, "/");
    Reply optionsPrimary = call(HttpMethod.OPTIONS, "/primary");
    Reply optionsReplica = call(HttpMethod.OPTIONS, "/replica");

    assertThat(head.status()).isEqualTo(200);
    assertThat(optionsPrimary.status()).isEqualTo(200);
    assertThat(optionsReplica.status()).isEqualTo(503);
    assertThat(head.body()).isEmpty();
    assertThat(optionsPrimary.body()).isEmpty();
    assertThat(optionsReplica.body()).isEmpty();
    assertThat(optionsPrimary.headers().contains("Content-Type")).isFalse();
    // HEAD has no handler of its own: HEAD /liveness and HEAD /patroni are health checks, as in Patroni
    assertThat(call(HttpMethod.HEAD, "/liveness").status()).isEqualTo(503);
    assertThat(call(HttpMethod.HEAD, "/patroni").status()).isEqualTo(503);
  }

  @Test
  void unknownUnsafeRequestsAre501() throws Exception {
    Reply post = call(HttpMethod.POST, "/nonexistent");
    Reply delete = call(HttpMethod.DELETE, "/patroni");

    assertThat(post.status()).isEqualTo(501);
    assertThat(post.body()).contains("Server does not support this operation");
    assertThat(post.body()).contains("Unsupported method ('POST')");
    assertThat(post.headers().get("Content-Type")).isEqualTo("text/html;charset=utf-8");
    assertThat(delete.status()).isEqualTo(501);
    assertThat(call(HttpMethod.PUT, "/config").status()).isEqualTo(501);
    assertThat(call(HttpMethod.PATCH, "/config").status()).isEqualTo(501);
  }

  @Test
  void livenessFollowsTheLoopDeadline() throws Exception {
    // leader(): next loop due at NOW_MS + 10 s, ttl 30 s, running primary => 200 until NOW_MS + 40 s
    Reply live = call(HttpMethod.GET, "/liveness");
    assertThat(live.status()).isEqualTo(200);
    assertThat(live.body()).isEmpty();
    assertThat(live.headers().contains("Content-Type")).isFalse();

    clock.set(NOW_MS + 40_000);
    assertThat(call(HttpMethod.GET, "/liveness").status()).isEqualTo(503);

    publish(with(leader(), "paused", true));
    assertThat(call(HttpMethod.GET, "/liveness").status()).isEqualTo(200);

    publish(replica()); // replicas get 2*ttl: due + 60 s
    assertThat(call(HttpMethod.GET, "/liveness").status()).isEqualTo(200);
    clock.set(NOW_MS + 70_000);
    assertThat(call(HttpMethod.GET, "/liveness").status()).isEqualTo(503);
  }

  @Test
  void readinessIsLeaderOrRunningWithAView() throws Exception {
    Reply ready = call(HttpMethod.GET, "/readiness");
    assertThat(ready.status()).isEqualTo(200);
    assertThat(ready.body()).isEmpty();

    publish(replica());
    assertThat(call(HttpMethod.GET, "/readiness").status()).isEqualTo(200);
    publish(with(replica(), "dcsViewPresent", false));
    assertThat(call(HttpMethod.GET, "/readiness").status()).isEqualTo(503);
    publish(with(replica(), "state", "starting"));
    assertThat(call(HttpMethod.GET, "/readiness").status()).isEqualTo(503);
  }

  @Test
  void aPublishedStatusChangesTheAnswerRightAway() throws Exception {
    assertThat(call(HttpMethod.GET, "/primary").status()).isEqualTo(200);

    publish(with(leader(), "state", "stopped", "pgQueryable", false)); // lock still held

    Reply primary = call(HttpMethod.GET, "/primary");
    assertThat(primary.status()).isEqualTo(503);
    assertThat(json(primary.body()).get("state").asText()).isEqualTo("stopped");
    assertThat(json(primary.body()).has("xlog")).isFalse();
    assertThat(call(HttpMethod.OPTIONS, "/").status()).isEqualTo(503);
    assertThat(api.current().state()).isEqualTo("stopped");
  }

  @Test
  void addedRoutesTakeTheirMethodAndFirstSegment() throws Exception {
    ApiVerticle withRoute = new ApiVerticle("127.0.0.1", 0, leader(), clock::get)
        .route(HttpMethod.GET, "cluster", req -> req.response().end("{\"members\":[]}"))
        .route(HttpMethod.POST, "reload", req -> req.response().setStatusCode(202).end("reload scheduled"));
    await(vertx.deployVerticle(withRoute));
    port = withRoute.actualPort();

    assertThat(call(HttpMethod.GET, "/cluster").body()).isEqualTo("{\"members\":[]}");
    assertThat(call(HttpMethod.GET, "/cluster/x?y=1").body()).isEqualTo("{\"members\":[]}");
    assertThat(call(HttpMethod.POST, "/reload").status()).isEqualTo(202);
    assertThat(call(HttpMethod.HEAD, "/cluster").status()).isEqualTo(503); // still a health check
    assertThat(call(HttpMethod.GET, "/cluster-primary").status()).isEqualTo(200); // another segment
  }

  @Test
  void http10ConnectionIsClosedAfterTheStatusLine() throws Exception {
    String raw = rawExchange("OPTIONS / HTTP/1.0\r\n\r\n", text -> false);

    assertThat(raw).startsWith("HTTP/1.0 200 OK\r\n").endsWith("\r\n\r\n"); // no body
    // and the server closed the connection, else rawExchange would have timed out
  }

  @Test
  void connectionCloseIsHonoured() throws Exception {
    String raw = rawExchange("GET /replica HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", text -> false);

    assertThat(raw).startsWith("HTTP/1.1 503 Service Unavailable\r\n");
    assertThat(raw.toLowerCase()).contains("connection: close");
  }

  @Test
  void anH2cUpgradeIsIgnoredAndAnsweredInHttp11() throws Exception {
    String raw = rawExchange("GET /primary HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings, close\r\n"
        + "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\n\r\n", text -> text.contains("\r\n\r\n"));

    assertThat(raw).startsWith("HTTP/1.1 200 OK\r\n");
  }

  @Test
  void http11KeepsTheConnectionForPipelinedRequests() throws Exception {
    String request = "GET /primary HTTP/1.1\r\nHost: x\r\n\r\n";
    String raw = rawExchange(request + request, text -> text.split("HTTP/1.1 200 OK", -1).length == 3);

    assertThat(raw.split("HTTP/1.1 200 OK", -1)).hasSize(3);
    assertThat(raw.toLowerCase()).doesNotContain("connection: close");
  }

  /**
   * Publishes {@code s} as the HA loop does and waits until the verticle holds it: delivery is a task on the
   * verticle's event loop, which may run after a request already in flight, so a test must not race it. The
   * identity check also shows the local codec handed over the same object.
   */
  private void publish(NodeStatus s) throws InterruptedException {
    vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED, s);
    long deadline = System.nanoTime() + SECONDS.toNanos(5);
    while (api.current() != s) {
      assertThat(System.nanoTime()).as("status delivered within 5 s").isLessThan(deadline);
      Thread.sleep(1);
    }
  }

  private Reply call(HttpMethod method, String uri) throws Exception {
    return await(client.request(method, port, "127.0.0.1", uri)
        .compose(req -> req.send()
            .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b.toString())))));
  }

  /**
   * Sends {@code request} on a fresh TCP connection and returns what came back once {@code done} accepts it (the
   * connection stays open) or the server closed the connection.
   */
  private String rawExchange(String request, Predicate<String> done) throws Exception {
    Promise<String> result = Promise.promise();
    NetSocket socket = await(vertx.createNetClient().connect(port, "127.0.0.1"));
    Buffer received = Buffer.buffer();
    socket.handler(data -> {
      received.appendBuffer(data);
      if (done.test(received.toString())) {
        result.tryComplete(received.toString());
      }
    });
    socket.closeHandler(v -> result.tryComplete(received.toString()));
    socket.write(request);
    return await(result.future());
  }

  private static JsonNode json(String body) throws Exception {
    return new ObjectMapper().readTree(body);
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(5, SECONDS);
  }
}
