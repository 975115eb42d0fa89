package io.pgha.metrics;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.api.ApiVerticle;
import io.pgha.bus.Addresses;
import io.pgha.bus.LocalCodec;
import io.pgha.metrics.Exposition.Family;
import io.pgha.model.NodeStatus;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** A real {@link ApiVerticle} on an ephemeral port, with {@code GET /metrics} installed and Vert.x metrics on. */
class MetricsRouteTest {
  private PghaMetrics metrics;
  private Vertx vertx;
  private HttpClient client;
  private int port;

  record Reply(int status, MultiMap headers, String body) {}

  @BeforeEach
  void start() throws Exception {
    metrics = new PghaMetrics("batman", "postgresql2");
    vertx = Vertx.vertx(PghaMetrics.withMetrics(new VertxOptions(), metrics));
    vertx.eventBus().registerDefaultCodec(NodeStatus.class, new LocalCodec<>(NodeStatus.class));
    ApiVerticle api = MetricsRoute.install(new ApiVerticle("127.0.0.1", 0, Fixtures.leader()), metrics);
    await(vertx.deployVerticle(api));
    port = api.actualPort();
    client = vertx.createHttpClient();
  }

  @AfterEach
  void stop() throws Exception {
    await(vertx.close());
    metrics.close();
  }

  @Test
  void metricsIsThePatroniBlockThenTheRegistry() throws Exception {
    metrics.haCycle(Duration.ofMillis(12));
    metrics.membersClaimingPrimary(1);

    Reply r = get("/metrics");

    assertThat(r.status()).isEqualTo(200);
    assertThat(r.headers().get("Content-Type")).isEqualTo("text/plain; version=0.0.4; charset=utf-8");
    assertThat(r.body()).startsWith("# HELP patroni_version Patroni semver without periods.\n"
        + "# TYPE patroni_version gauge\n"
        + "patroni_version{scope=\"batman\",name=\"postgresql2\"} 030002\n");
    Map<String, Family> families = Exposition.parse(r.body());
    assertThat(families.get("patroni_primary").samples().get(0).value()).isEqualTo("1");
    assertThat(families.get("pgha_ha_cycle_seconds").samples()).isNotEmpty();
    assertThat(families.get("pgha_members_claiming_primary").samples().get(0).number()).isEqualTo(1.0);
    assertThat(families).containsKey("jvm_memory_used_bytes");
    assertThat(r.body()).isEqualTo(r.body().strip() + "\n");
  }

  @Test
  void answersFromTheLatestPublishedStatus() throws Exception {
    NodeStatus demoted = Fixtures.with(Fixtures.leader(), "name", "postgresql2", "role", "replica",
        "state", "stopped", "pgQueryable", false);
    vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED, demoted);

    String body = awaitBodyContaining("patroni_replica{scope=\"batman\",name=\"postgresql2\"} 1\n");

    assertThat(body).contains("patroni_primary{scope=\"batman\",name=\"postgresql2\"} 0\n")
        .contains("patroni_postgres_state{scope=\"batman\",name=\"postgresql2\"} 12\n");
  }

  @Test
  void alwaysTwoHundredEvenWithPostgresDown() throws Exception {
    vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED,
        Fixtures.with(Fixtures.leader(), "pgQueryable", false, "clusterUnlocked", true));

    String body = awaitBodyContaining("patroni_postgres_running{scope=\"batman\",name=\"postgresql2\"} 0\n");

    assertThat(body).contains("patroni_cluster_unlocked{scope=\"batman\",name=\"postgresql2\"} 1\n");
  }

  @Test
  void vertxHttpServerMetricsAppearInTheRegistry() throws Exception {
    assertThat(get("/patroni").status()).isEqualTo(200);
    assertThat(get("/replica").status()).isEqualTo(503);

    Map<String, Family> families = Exposition.parse(get("/metrics").body());

    Family requests = families.get("vertx_http_server_requests_total");
    assertThat(requests).as("Vert.x HTTP server metrics in " + families.keySet()).isNotNull();
    assertThat(requests.samples()).anySatisfy(s -> {
      assertThat(s.labels()).containsEntry("code", "503").containsEntry("method", "GET")
          .containsEntry("scope", "batman");
      assertThat(s.number()).isEqualTo(1.0);
    });
  }

  @Test
  void otherRoutesAreUntouched() throws Exception {
    assertThat(get("/patroni").headers().get("Content-Type")).isEqualTo("application/json");
    Reply other = get("/metricsx"); // a health check, as in Patroni: only the first segment picks a handler
    assertThat(other.headers().get("Content-Type")).isEqualTo("application/json");
    assertThat(other.body()).doesNotContain("patroni_version");
  }

  private String awaitBodyContaining(String text) throws Exception {
    long deadline = System.nanoTime() + SECONDS.toNanos(5);
    Reply r;
    do {
      r = get("/metrics");
      assertThat(r.status()).isEqualTo(200);
      if (r.body().contains(text)) {
        return r.body();
      }
      Thread.sleep(20);
    } while (System.nanoTime() < deadline);
    throw new AssertionError("no " + text + " in\n" + r.body());
  }

  Reply get(String path) throws Exception {
    return await(client.request(HttpMethod.GET, port, "127.0.0.1", path)
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> new Reply(resp.statusCode(), resp.headers(), b.toString()))));
  }

  static <T> T await(Future<T> f) throws Exception {
    return f.toCompletionStage().toCompletableFuture().get(10, SECONDS);
  }
}
