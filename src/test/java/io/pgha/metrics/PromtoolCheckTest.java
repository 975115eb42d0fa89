package io.pgha.metrics;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.api.ApiVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code promtool check metrics} (Debian package {@code prometheus}) on the real {@code /metrics} body. Skipped, with
 * a message, where promtool is not installed.
 *
 * <p>promtool exits 3 on lint problems and 1 on parse errors. Patroni's own metric names carry lint problems that pgha
 * must keep for compatibility (counters without {@code _total}): those and only those are allowed.
 */
class PromtoolCheckTest {
  /** What promtool says about Patroni's names, which existing dashboards use: kept on purpose. */
  private static final Set<String> PATRONI_LINT = Set.of(
      "patroni_xlog_location counter metrics should have \"_total\" suffix",
      "patroni_xlog_received_location counter metrics should have \"_total\" suffix",
      "patroni_xlog_replayed_location counter metrics should have \"_total\" suffix");
  /** Micrometer's standard name, which the usual JVM dashboards use: kept on purpose. */
  private static final String MICROMETER_LINT =
      "system_cpu_count non-histogram and non-summary metrics should not have \"_count\" suffix";

  private static Path promtool;
  private static PghaMetrics metrics;
  private static Vertx vertx;
  private static HttpClient client;
  private static int port;

  private record Result(int exitCode, String output) {}

  @BeforeAll
  static void start() throws Exception {
    promtool = findPromtool();
    Assumptions.assumeTrue(promtool != null,
        "promtool not found on PATH or in /usr/bin: install it with `apt-get install -y prometheus`");
    metrics = new PghaMetrics("batman", "postgresql0");
    vertx = Vertx.vertx(PghaMetrics.withMetrics(new VertxOptions(), metrics));
    ApiVerticle api = MetricsRoute.install(new ApiVerticle("127.0.0.1", 0, Fixtures.replica()), metrics);
    MetricsRouteTest.await(vertx.deployVerticle(api));
    port = api.actualPort();
    client = vertx.createHttpClient();
    // every kind of pgha meter with data, and Vert.x HTTP metrics from real requests
    Fixtures.exerciseEveryMeter(metrics);
    get("/patroni");
    get("/primary");
  }

  @AfterAll
  static void stop() throws Exception {
    if (vertx != null) {
      MetricsRouteTest.await(vertx.close());
    }
    if (metrics != null) {
      metrics.close();
    }
  }

  @Test
  void promtoolAcceptsMetrics() throws Exception {
    String body = get("/metrics");
    assertThat(body).contains("vertx_http_server_requests_total").contains("pgha_ha_cycle_seconds_bucket")
        .contains("patroni_postgres_state").contains("jvm_memory_used_bytes");

    Result r = check(body);

    assertThat(r.exitCode()).as("promtool exit code (0 clean, 3 lint only, 1 parse error):\n" + r.output())
        .isIn(0, 3);
    Set<String> expected = new TreeSet<>(PATRONI_LINT);
    expected.add(MICROMETER_LINT);
    assertThat(lines(r.output())).as("promtool problems").isEqualTo(expected);
  }

  @Test
  void promtoolAcceptsThePatroniBlockOfAStoppedMember() throws Exception {
    StringBuilder out = new StringBuilder();
    PatroniMetrics.render(Fixtures.with(Fixtures.leader(), "state", "stopped", "pgQueryable", false), out);

    Result r = check(out.toString());

    assertThat(r.exitCode()).as(r.output()).isIn(0, 3);
    assertThat(lines(r.output())).isEqualTo(PATRONI_LINT);
  }

  /** The harness itself: promtool fails a body in which a family is written twice, as a collision would. */
  @Test
  void promtoolRejectsAFamilyWrittenTwice() throws Exception {
    StringBuilder out = new StringBuilder();
    PatroniMetrics.render(Fixtures.leader(), out);
    PatroniMetrics.render(Fixtures.leader(), out);

    Result r = check(out.toString());

    assertThat(r.exitCode()).isEqualTo(1);
    assertThat(r.output()).contains("second HELP line for metric name \"patroni_version\"");
  }

  private static Result check(String body) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(promtool.toString(), "check", "metrics").redirectErrorStream(true).start();
    try (var in = p.getOutputStream()) {
      in.write(body.getBytes(UTF_8));
    }
    String output = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("promtool finished").isTrue();
    return new Result(p.exitValue(), output);
  }

  private static Set<String> lines(String output) {
    return Arrays.stream(output.split("\n")).map(String::strip).filter(l -> !l.isEmpty())
        .collect(Collectors.toCollection(TreeSet::new));
  }

  private static String get(String path) throws Exception {
    return MetricsRouteTest.await(client.request(HttpMethod.GET, port, "127.0.0.1", path)
        .compose(req -> req.send())
        .compose(resp -> resp.body().map(b -> b.toString())));
  }

  private static Path findPromtool() {
    String path = System.getenv("PATH");
    List<String> dirs = new ArrayList<>(path == null ? List.of() : List.of(path.split(":")));
    dirs.add("/usr/bin");
    for (String dir : dirs) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "promtool");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
