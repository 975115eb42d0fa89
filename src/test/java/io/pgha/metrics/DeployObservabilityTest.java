package io.pgha.metrics;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.pgha.metrics.Exposition.Family;
import io.pgha.metrics.Exposition.Sample;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The observability kit in {@code deploy/}: the alert rules' {@code promtool test rules} unit tests, the scrape
 * configuration, and every metric name a rule or a dashboard query uses against what {@code GET /metrics} writes.
 * The promtool parts are skipped, with one line, where promtool is not installed.
 */
class DeployObservabilityTest {
  static final Path PROMETHEUS = Path.of("deploy/prometheus");
  static final Path DASHBOARD = Path.of("deploy/grafana/pgha-dashboard.json");
  /** Series Prometheus itself adds to every target. */
  private static final Set<String> SYNTHETIC = Set.of("up");
  private static final Set<String> PROMQL_WORDS = Set.of("and", "or", "unless", "by", "without", "on", "ignoring",
      "group_left", "group_right", "offset", "bool", "inf", "nan", "Inf", "NaN");
  private static final Pattern IDENTIFIER = Pattern.compile("(?<![\\w.$:])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?");

  @TempDir Path tmp;

  @Test
  void alertRulesPassTheirPromtoolUnitTests() throws Exception {
    Path promtool = promtool();

    Result config = run(promtool.toString(), "check", "config", PROMETHEUS.resolve("prometheus.yml").toString());
    Result tests = run(promtool.toString(), "test", "rules", PROMETHEUS.resolve("pgha-rules.test.yml").toString());

    assertThat(config.exitCode()).as(config.output()).isZero();
    assertThat(config.output()).contains("SUCCESS: 1 rule files found");
    assertThat(tests.exitCode()).as(tests.output()).isZero();
    assertThat(tests.output()).contains("SUCCESS");
  }

  /** The harness can fail: a rule whose threshold is changed fails the same unit tests. */
  @Test
  void aBrokenRuleFailsTheUnitTests() throws Exception {
    Path promtool = promtool();
    Files.writeString(tmp.resolve("pgha-rules.yml"), Files.readString(PROMETHEUS.resolve("pgha-rules.yml"))
        .replace("expr: pgha_zookeeper_session_connected == 0", "expr: pgha_zookeeper_session_connected == 1"));
    Files.copy(PROMETHEUS.resolve("pgha-rules.test.yml"), tmp.resolve("pgha-rules.test.yml"));

    Result tests = run(promtool.toString(), "test", "rules", tmp.resolve("pgha-rules.test.yml").toString());

    assertThat(tests.exitCode()).as(tests.output()).isNotZero();
    assertThat(tests.output()).contains("PghaZooKeeperSessionLost");
  }

  @Test
  void theRulesCoverTheRequiredAlerts() throws IOException {
    List<String> names = new ArrayList<>();
    for (JsonNode rule : rules()) {
      names.add(rule.path("alert").asText());
    }
    assertThat(names).contains("PghaNoLeader", "PghaMultiplePrimaries", "PghaMemberDown",
        "PghaReplicaLagAboveMaximumLagOnFailover", "PghaPendingRestart", "PghaZooKeeperSessionLost",
        "PghaDynamicConfigurationInvalid", "PghaFencingGuardFired");
  }

  @Test
  void everyMetricARuleUsesIsExported() throws IOException {
    Set<String> used = new TreeSet<>();
    for (JsonNode rule : rules()) {
      used.addAll(metricNames(rule.path("expr").asText()));
    }
    assertThat(used).hasSizeGreaterThan(10);
    assertThat(exported()).containsAll(minus(used, SYNTHETIC));
  }

  @Test
  void everyMetricADashboardQueryUsesIsExported() throws IOException {
    List<String> exprs = dashboardExprs();
    Set<String> used = new TreeSet<>();
    for (String expr : exprs) {
      used.addAll(metricNames(expr));
    }

    assertThat(exprs).hasSizeGreaterThan(30);
    assertThat(exported()).containsAll(minus(used, SYNTHETIC));
    // the areas the dashboard must show
    assertThat(used).contains("patroni_primary", "patroni_replica", "patroni_xlog_location",
        "patroni_xlog_replayed_location", "patroni_postgres_timeline", "pgha_failovers_total",
        "pgha_switchovers_total", "pgha_ha_decisions_total", "pgha_zookeeper_session_connected");
  }

  /** The extraction itself: names, not functions, keywords, labels, ranges or template variables. */
  @Test
  void metricNamesOfAnExpression() {
    assertThat(metricNames("sum by (reason) (rate(pgha_ha_decisions_total{scope=~\"$scope\",x=\"a b\"}"
        + "[$__rate_interval])) > 0 and on (scope, name) patroni_replica == 1 or up{job=\"pgha\"}"))
        .containsExactlyInAnyOrder("pgha_ha_decisions_total", "patroni_replica", "up");
  }

  /** Every dashboard query parses as PromQL: promtool checks them as recording rules. */
  @Test
  void everyDashboardQueryIsValidPromql() throws Exception {
    Path promtool = promtool();
    StringBuilder rules = new StringBuilder("groups:\n  - name: dashboard\n    rules:\n");
    int i = 0;
    for (String expr : dashboardExprs()) {
      String concrete = expr.replace("$__rate_interval", "1m").replace("$__range", "1h").replace("$scope", ".*");
      rules.append("      - record: dashboard:query").append(i++).append("\n        expr: ")
          .append(new ObjectMapper().writeValueAsString(concrete)).append('\n');
    }
    Path file = tmp.resolve("dashboard-rules.yml");
    Files.writeString(file, rules.toString());

    Result check = run(promtool.toString(), "check", "rules", file.toString());

    assertThat(check.exitCode()).as(check.output()).isZero();
    assertThat(check.output()).contains("SUCCESS: " + i + " rules found");
  }

  static Set<String> metricNames(String expr) {
    String s = expr.replaceAll("\"(?:[^\"\\\\]|\\\\.)*\"", "\"\"")
        .replaceAll("\\{[^}]*}", " ")
        .replaceAll("\\[[^]]*]", " ")
        .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
    Set<String> names = new TreeSet<>();
    Matcher m = IDENTIFIER.matcher(s);
    while (m.find()) {
      if (m.group(2) == null && !PROMQL_WORDS.contains(m.group(1))) {
        names.add(m.group(1));
      }
    }
    return names;
  }

  private static List<JsonNode> rules() throws IOException {
    JsonNode root = new YAMLMapper().readTree(PROMETHEUS.resolve("pgha-rules.yml").toFile());
    List<JsonNode> out = new ArrayList<>();
    root.path("groups").forEach(g -> g.path("rules").forEach(out::add));
    return out;
  }

  private static List<String> dashboardExprs() throws IOException {
    JsonNode root = new ObjectMapper().readTree(DASHBOARD.toFile());
    List<String> exprs = new ArrayList<>();
    root.findValues("expr").forEach(e -> exprs.add(e.asText()));
    root.path("templating").path("list").forEach(v -> {
      String q = v.path("query").path("query").asText("");
      Matcher m = Pattern.compile("label_values\\(([a-zA-Z_:][a-zA-Z0-9_:]*)").matcher(q);
      if (m.find()) {
        exprs.add(m.group(1));
      }
    });
    return exprs;
  }

  /** The series names of a real {@code GET /metrics} body of a leader and of a replica, every pgha meter set. */
  static Set<String> exported() {
    Set<String> names = new TreeSet<>();
    try (PghaMetrics metrics = new PghaMetrics("batman", "postgresql0")) {
      Fixtures.exerciseEveryMeter(metrics);
      for (String body : List.of(MetricsRoute.body(Fixtures.leader(), metrics),
          MetricsRoute.body(Fixtures.replica(), metrics))) {
        for (Family f : Exposition.parse(body).values()) {
          for (Sample sample : f.samples()) {
            names.add(sample.name());
          }
        }
      }
    }
    return names;
  }

  private static Set<String> minus(Set<String> a, Set<String> b) {
    Set<String> out = new TreeSet<>(a);
    out.removeAll(b);
    return out;
  }

  record Result(int exitCode, String output) {}

  static Result run(String... command) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String output = new String(p.getInputStream().readAllBytes(), UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("%s finished", command[0]).isTrue();
    return new Result(p.exitValue(), output);
  }

  static Path promtool() {
    for (String dir : (System.getenv().getOrDefault("PATH", "") + ":/usr/bin").split(":")) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "promtool");
      if (Files.isExecutable(candidate)) {
        return candidate;
      }
    }
    Assumptions.abort("promtool not found on PATH or in /usr/bin: install it with `apt-get install -y prometheus`");
    return null;
  }
}
