package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.bus.Addresses;
import io.pgha.bus.LocalCodec;
import io.pgha.model.NodeStatus;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@code POST|DELETE /restart}, {@code POST /reinitialize}, {@code POST /reload} (§5.9, §5.10): Patroni's validation
 * and messages, and the relay to a fake HA loop on the local bus.
 */
class OperationRoutesTest {
  private static final long REPLY_TIMEOUT_MS = 1000;
  private static final long RESTART_REPLY_TIMEOUT_MS = 500;
  private static final long RESTART_MARGIN_MS = 300;

  private Vertx vertx;
  private ApiVerticle api;
  private TestHttp http;
  /** Bodies the fake HA loop received, per address. */
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final LongSupplier clock = offsetClock();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    vertx.eventBus().registerDefaultCodec(NodeStatus.class, new LocalCodec<>(NodeStatus.class));
    api = new ApiVerticle("127.0.0.1", 0, Statuses.replica(), clock);
    OperationRoutes.install(api, vertx,
        new OperationRoutes.Settings(REPLY_TIMEOUT_MS, RESTART_REPLY_TIMEOUT_MS, RESTART_MARGIN_MS, clock));
    await(vertx.deployVerticle(api));
    http = new TestHttp(api.actualPort());
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
  }

  // --- GET /failsafe ---

  @Test
  void failsafeAnswersTheKeyAsLastReadAnd502WithoutOne() throws Exception {
    TestHttp.Reply none = http.get("/failsafe");

    vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED, Statuses.with(Statuses.replica(), "failsafeEnabled", true,
        "failsafeTopology", Map.of("pg1", "http://127.0.0.1:8009/patroni", "pg0", "http://127.0.0.1:8008/patroni")));
    TestHttp.Reply listed = awaitStatus(200, "/failsafe");

    assertThat(none.status()).isEqualTo(502);
    assertThat(listed.body()).isEqualTo(
        "{\"pg0\":\"http://127.0.0.1:8008/patroni\",\"pg1\":\"http://127.0.0.1:8009/patroni\"}");
    assertThat(listed.header("Content-Type")).startsWith("application/json");
  }

  private TestHttp.Reply awaitStatus(int status, String path) throws Exception {
    TestHttp.Reply r = http.get(path);
    for (int i = 0; i < 50 && r.status() != status; i++) {
      Thread.sleep(20);
      r = http.get(path);
    }
    return r;
  }

  // --- POST /restart ---

  @Test
  void restartSendsTheCheckedConditionsAndAnswersTheLoopsReply() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(200, "restarted successfully")));

    TestHttp.Reply r = post("/restart",
        "{\"role\":\"replica\",\"postgres_version\":\"16.4\",\"restart_pending\":true,\"timeout\":\"2min\"}");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("restarted successfully");
    assertThat(received).containsExactly(
        "{\"role\":\"replica\",\"postgres_version\":\"16.4\",\"restart_pending\":true,\"timeout\":120}");
  }

  @Test
  void restartWithoutBodyHasNoConditions() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(503, "restart conditions are not satisfied")));

    TestHttp.Reply noBody = http.raw("POST /restart HTTP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n");
    TestHttp.Reply emptyBody = post("/restart", "");

    assertThat(noBody.status()).isEqualTo(503);
    assertThat(noBody.body()).isEqualTo("restart conditions are not satisfied");
    assertThat(emptyBody.status()).isEqualTo(503);
    assertThat(received).containsExactly("{}", "{}");
  }

  @Test
  void aScheduledRestartCarriesItsTimestampWithOffset() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(202, "Restart scheduled")));

    TestHttp.Reply r = post("/restart", "{\"schedule\":\"2026-11-25T10:00:00Z\",\"postgres_version\":\"10.23\"}");

    assertThat(r.status()).isEqualTo(202);
    assertThat(r.body()).isEqualTo("Restart scheduled");
    assertThat(received).containsExactly("{\"schedule\":\"2026-11-25T10:00:00+00:00\",\"postgres_version\":\"10.23\"}");
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', quoteCharacter = '`', value = {
      "{\"role\":\"master\"}                                   | 400 | PostgreSQL role should be either primary, standby_leader, or replica",
      "{\"role\":[\"replica\"]}                                | 400 | PostgreSQL role should be either primary, standby_leader, or replica",
      "{\"postgres_version\":\"9.6\"}                          | 400 | Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 9.6",
      "{\"postgres_version\":\"10\"}                           | 400 | Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 10",
      "{\"postgres_version\":\"16.4.1.1\"}                     | 400 | Invalid PostgreSQL version format: X.Y or X.Y.Z is accepted: 16.4.1.1",
      "{\"postgres_version\":\"a.b.c\"}                        | 400 | Invalid PostgreSQL version: a.b.c",
      "{\"postgres_version\":16.4}                             | 400 | Invalid PostgreSQL version: 16.4",
      "{\"timeout\":0}                                         | 400 | Timeout should be a positive number of seconds",
      "{\"timeout\":-5}                                        | 400 | Timeout should be a positive number of seconds",
      "{\"timeout\":\"soon\"}                                  | 400 | Timeout should be a positive number of seconds",
      "{\"timeout\":\"5 fortnights\"}                          | 400 | Timeout should be a positive number of seconds",
      "{\"timeout\":true}                                      | 400 | Timeout should be a positive number of seconds",
      "{\"bogus\":1}                                           | 400 | Unknown filter for the scheduled restart: bogus",
      "{\"bogus\":1,\"role\":\"master\"}                       | 400 | Unknown filter for the scheduled restart: bogus",
      "{\"role\":\"master\",\"bogus\":1}                       | 400 | PostgreSQL role should be either primary, standby_leader, or replica",
      "{\"schedule\":\"2026-11-23T10:00:00+00:00\"}            | 422 | Cannot schedule restart in the past",
      "{\"schedule\":\"2026-11-25T10:00:00\"}                  | 400 | Timezone information is mandatory for the scheduled restart",
      "{\"schedule\":\"next tuesday\"}                         | 422 | Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601",
      "{\"schedule\":42}                                       | 422 | Unable to parse scheduled timestamp. It should be in an unambiguous format, e.g. ISO 8601",
  })
  void restartConditionsAreCheckedLikePatroni(String body, int status, String message) throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(200, "restarted successfully")));

    TestHttp.Reply r = post("/restart", body);

    assertThat(r.status()).isEqualTo(status);
    assertThat(r.body()).isEqualTo(message);
    assertThat(received).isEmpty();
  }

  @Test
  void timeoutsTakeUnits() {
    assertThat(OperationRoutes.seconds("30")).isEqualTo(30);
    assertThat(OperationRoutes.seconds(" 90 s ")).isEqualTo(90);
    assertThat(OperationRoutes.seconds("1.5min")).isEqualTo(90);
    assertThat(OperationRoutes.seconds("1h")).isEqualTo(3600);
    assertThat(OperationRoutes.seconds("2500ms")).isEqualTo(2); // Python's round: half to even
    assertThat(OperationRoutes.seconds("3500ms")).isEqualTo(4);
    assertThat(OperationRoutes.seconds("10 MB")).isNull();
    assertThat(OperationRoutes.seconds("")).isNull();
  }

  @Test
  void badBodiesAreRefusedBeforeTheLoopIsAsked() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(200, "restarted successfully")));

    assertBad(post("/restart", "{\"role\":"), 400);
    assertBad(post("/restart", "[\"replica\"]"), 400);
    assertBad(post("/restart", "{\"role\":\"replica\",\"schedule\":\"" + "9".repeat(70 * 1024) + "\"}"), 413);
    assertBad(post("/reinitialize", "{\"force\":"), 400);
    assertBad(post("/reinitialize", "true"), 400);

    assertThat(received).isEmpty();
  }

  @Test
  void aRestartCannotBeScheduledWhilePaused() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(202, "Restart scheduled")));
    vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED, Statuses.with(Statuses.replica(), "paused", true));
    long deadline = System.currentTimeMillis() + 5000;
    while (!api.current().paused() && System.currentTimeMillis() < deadline) {
      Thread.sleep(10);
    }

    TestHttp.Reply scheduled = post("/restart", "{\"schedule\":\"2026-11-25T10:00:00+00:00\"}");
    // checked before the keys, as Patroni does
    TestHttp.Reply scheduledAndBad = post("/restart", "{\"bogus\":1,\"schedule\":\"2026-11-25T10:00:00+00:00\"}");

    assertThat(scheduled.status()).isEqualTo(500);
    assertThat(scheduled.body()).isEqualTo("Can't schedule restart in the paused state");
    assertThat(scheduledAndBad.status()).isEqualTo(500);
    assertThat(received).isEmpty();
  }

  @Test
  void withoutTheLoopARestartIs503() throws Exception {
    TestHttp.Reply r = post("/restart", "{}");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("restart is not possible now: the HA loop is not running");
  }

  @Test
  void aRestartTheLoopDoesNotAnswerInTimeIs503() throws Exception {
    loop(Addresses.HA_RESTART, m -> { });
    long start = System.nanoTime();

    TestHttp.Reply r = post("/restart", "{}");

    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start))
        .isBetween(RESTART_REPLY_TIMEOUT_MS, RESTART_REPLY_TIMEOUT_MS + 5000);
    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("restart status unknown: the HA loop did not answer in time");
  }

  @Test
  void theRestartTimeoutExtendsTheWaitForTheReply() throws Exception {
    // answers after 800 ms: later than the default wait (500 ms), sooner than timeout 1 s + margin 300 ms
    loop(Addresses.HA_RESTART, m -> vertx.setTimer(800, id -> m.reply(reply(200, "restarted successfully"))));

    TestHttp.Reply withTimeout = post("/restart", "{\"timeout\":1}");
    TestHttp.Reply without = post("/restart", "{}");

    assertThat(withTimeout.status()).isEqualTo(200);
    assertThat(without.status()).isEqualTo(503);
  }

  @Test
  void aFailedRestartIsPatronisExceptionPath() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.fail(1, "pg_ctl exploded"));

    TestHttp.Reply r = post("/restart", "{}");

    assertThat(r.status()).isEqualTo(400);
    assertThat(r.body()).isEqualTo("restart failed");
  }

  @Test
  void aMalformedReplyIs503() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply("restarted"));
    loop(Addresses.HA_REINITIALIZE, m -> m.reply(new JsonObject().put("status", 200)));

    TestHttp.Reply restart = post("/restart", "{}");
    TestHttp.Reply reinit = post("/reinitialize", "{}");

    assertThat(restart.status()).isEqualTo(503);
    assertThat(restart.body()).isEqualTo("restart status unknown: malformed reply from the HA loop");
    assertThat(reinit.status()).isEqualTo(503);
    assertThat(reinit.body()).isEqualTo("reinitialize status unknown: malformed reply from the HA loop");
  }

  // --- DELETE /restart ---

  @Test
  void deleteRestartAsksTheLoopToCancel() throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(200, "scheduled restart deleted")));

    TestHttp.Reply r = http.send("DELETE", "/restart", null);

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("scheduled restart deleted");
    assertThat(received).containsExactly("{\"cancel\":true}");
  }

  @Test
  void withoutTheLoopNoRestartIsScheduled() throws Exception {
    TestHttp.Reply r = http.send("DELETE", "/restart", null);

    assertThat(r.status()).isEqualTo(404);
    assertThat(r.body()).isEqualTo("no restarts are scheduled");
  }

  // --- POST /reinitialize ---

  @Test
  void reinitializeSendsForceAndFromLeader() throws Exception {
    loop(Addresses.HA_REINITIALIZE, m -> m.reply(reply(200, "reinitialize started")));

    TestHttp.Reply r = post("/reinitialize", "{\"force\":\"yes\",\"from_leader\":true}");
    post("/reinitialize", "{\"force\":false}"); // patronictl 3.x
    http.raw("POST /reinitialize HTTP/1.0\r\nHost: x\r\nConnection: close\r\n\r\n");
    post("/reinitialize", "{\"force\":\"off\",\"from-leader\":true,\"other\":1}"); // unknown keys are ignored

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("reinitialize started");
    assertThat(received).containsExactly(
        "{\"force\":true,\"from_leader\":true}",
        "{\"force\":false,\"from_leader\":false}",
        "{\"force\":false,\"from_leader\":false}",
        "{\"force\":false,\"from_leader\":false}");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
      "true     | true", "\"True\" | true", "\"true\" | true", "\"1\"    | true", "1        | true",
      "false    | false", "\"False\" | false", "\"0\"   | false", "0        | false"})
  void restartPendingTakesPatronisBooleanSpellings(String value, boolean expected) throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(503, "restart conditions are not satisfied")));

    TestHttp.Reply r = post("/restart", "{\"restart_pending\":" + value + "}");

    assertThat(r.status()).isEqualTo(503);
    assertThat(received).containsExactly("{\"restart_pending\":" + expected + "}");
  }

  @org.junit.jupiter.params.ParameterizedTest
  @org.junit.jupiter.params.provider.ValueSource(strings = {
      "/restart|{\"restart_pending\":\"maybe\"}", "/restart|{\"restart_pending\":[true]}",
      "/restart|{\"restart_pending\":{}}", "/restart|{\"restart_pending\":2}",
      "/reinitialize|{\"force\":\"sure\"}", "/reinitialize|{\"from_leader\":[1]}",
      "/reinitialize|{\"force\":1.5}"})
  void aBooleanOfTheWrongTypeIs400AndReachesNoLoop(String request) throws Exception {
    loop(Addresses.HA_RESTART, m -> m.reply(reply(200, "restarted successfully")));
    loop(Addresses.HA_REINITIALIZE, m -> m.reply(reply(200, "reinitialize started")));
    String[] parts = request.split("\\|", 2);

    TestHttp.Reply r = post(parts[0], parts[1]);

    assertBad(r, 400);
    assertThat(r.body()).contains("must be a boolean");
    assertThat(received).isEmpty();
  }

  @Test
  void reinitializeRelaysTheLoopsRefusal() throws Exception {
    loop(Addresses.HA_REINITIALIZE, m -> m.reply(reply(503, "I am the leader, can not reinitialize")));

    TestHttp.Reply r = post("/reinitialize", "{}");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("I am the leader, can not reinitialize");
  }

  @Test
  void withoutTheLoopReinitializeIs503() throws Exception {
    TestHttp.Reply r = post("/reinitialize", "{}");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("reinitialize is not possible now: the HA loop is not running");
  }

  // --- POST /reload ---

  @Test
  void reloadRelaysTheLoopsReply() throws Exception {
    loop(Addresses.HA_RELOAD, m -> m.reply(reply(200, "No changes")));

    TestHttp.Reply r = post("/reload", "");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.body()).isEqualTo("No changes");
    assertThat(received).containsExactly("{}");
  }

  @Test
  void reloadIsScheduledByDefault() throws Exception {
    loop(Addresses.HA_RELOAD, m -> m.reply(new JsonObject()));

    TestHttp.Reply r = post("/reload", "whatever: Patroni reads no body here");

    assertThat(r.status()).isEqualTo(202);
    assertThat(r.body()).isEqualTo("reload scheduled");
  }

  @Test
  void withoutTheLoopReloadIs503() throws Exception {
    TestHttp.Reply r = post("/reload", "");

    assertThat(r.status()).isEqualTo(503);
    assertThat(r.body()).isEqualTo("reload is not possible now: the HA loop is not running");
  }

  // --- helpers ---

  /** A fake HA loop consumer on {@code address} that records the body it got. */
  private void loop(String address, Consumer<Message<JsonObject>> answer) throws Exception {
    await(vertx.eventBus().<JsonObject>localConsumer(address, m -> {
      received.add(m.body().encode());
      answer.accept(m);
    }).completion());
  }

  private static JsonObject reply(int status, String message) {
    return new JsonObject().put("status", status).put("message", message);
  }

  private TestHttp.Reply post(String path, String body) throws Exception {
    return http.send("POST", path, body);
  }

  private static void assertBad(TestHttp.Reply r, int status) {
    assertThat(r.status()).isEqualTo(status);
    assertThat(r.body()).isNotBlank().doesNotContain("\n").doesNotContain("<");
  }

  private static LongSupplier offsetClock() {
    long offset = Statuses.NOW_MS - System.currentTimeMillis();
    return () -> System.currentTimeMillis() + offset;
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
  }
}
