package io.pgha.it;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Patroni's REST API on a real cluster, as the leader and as a replica answer it (patroni-compat §5): health-check
 * codes, status bodies, cluster information, configuration, metrics, and the operations a replica accepts.
 */
@Tag("integration")
class EndpointsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(3)).build();

  @RegisterExtension
  final TestClusterExtension clusters = new TestClusterExtension();

  record Answer(int status, String body) {}

  @Test
  void leaderAndReplicaAnswerAsPatroniDoes() throws Exception {
    TestCluster cluster = clusters.start("endpoints", 3);
    String leader = cluster.awaitLeader(Duration.ofSeconds(90));
    String replica = cluster.awaitStreamingReplicas(2, Duration.ofSeconds(90)).get(0);
    String leaderApi = cluster.member(leader).restBase();
    String replicaApi = cluster.member(replica).restBase();

    // health checks: the codes Patroni gives a leader and a streaming replica
    Map<String, List<Integer>> expected = Map.ofEntries(
        Map.entry("/", List.of(200, 503)), Map.entry("/primary", List.of(200, 503)),
        Map.entry("/master", List.of(200, 503)), Map.entry("/leader", List.of(200, 503)),
        Map.entry("/read-write", List.of(200, 503)), Map.entry("/replica", List.of(503, 200)),
        Map.entry("/read-only", List.of(200, 200)), Map.entry("/health", List.of(200, 200)),
        Map.entry("/standby-leader", List.of(503, 503)), Map.entry("/async", List.of(503, 200)),
        Map.entry("/sync", List.of(503, 503)), Map.entry("/replica?lag=1MB", List.of(503, 200)),
        Map.entry("/replica?tag_nofailover=true", List.of(503, 503)),
        Map.entry("/liveness", List.of(200, 200)), Map.entry("/readiness", List.of(200, 200)));
    expected.forEach((path, codes) -> {
      assertThat(get(leaderApi + path).status()).as("leader GET " + path).isEqualTo(codes.get(0));
      assertThat(get(replicaApi + path).status()).as("replica GET " + path).isEqualTo(codes.get(1));
      // HEAD goes to the health-check router (§5.1): the probes answer it as an unknown check, 503
      int headCode = path.startsWith("/liveness") || path.startsWith("/readiness") ? 503 : codes.get(0);
      assertThat(head(leaderApi + path)).as("leader HEAD " + path).isEqualTo(headCode);
    });

    JsonNode leaderStatus = JSON.readTree(get(leaderApi + "/patroni").body());
    assertThat(leaderStatus.path("role").asText()).isEqualTo("primary");
    assertThat(leaderStatus.path("xlog").has("location")).isTrue();
    assertThat(leaderStatus.path("patroni").path("name").asText()).isEqualTo(leader);
    assertThat(leaderStatus.path("replication").size()).isEqualTo(2);
    JsonNode replicaStatus = JSON.readTree(get(replicaApi + "/patroni").body());
    assertThat(replicaStatus.path("role").asText()).isEqualTo("replica");
    assertThat(replicaStatus.path("xlog").has("received_location")).isTrue();
    assertThat(replicaStatus.path("replication_state").asText()).isEqualTo("streaming");

    // cluster information, the same from every member
    for (String api : List.of(leaderApi, replicaApi)) {
      JsonNode cl = JSON.readTree(get(api + "/cluster").body());
      assertThat(cl.path("members").size()).isEqualTo(3);
      assertThat(cl.path("members").findValuesAsText("role")).containsOnlyOnce("leader");
      assertThat(get(api + "/history").status()).isEqualTo(200);
      assertThat(JSON.readTree(get(api + "/config").body()).path("ttl").asInt()).isEqualTo(10);
    }
    Answer patched = send("PATCH", replicaApi + "/config", "{\"maximum_lag_on_failover\":2097152}");
    assertThat(patched.status()).isEqualTo(200);
    assertThat(JSON.readTree(get(leaderApi + "/config").body()).path("maximum_lag_on_failover").asLong())
        .isEqualTo(2097152);
    assertThat(send("PATCH", replicaApi + "/config", "{not json").status()).isEqualTo(400);

    String metrics = get(leaderApi + "/metrics").body();
    assertThat(metrics).contains("patroni_primary{scope=\"endpoints\",name=\"" + leader + "\"} 1")
        .contains("pgha_ha_decisions_total");

    // operations on the replica
    assertThat(send("POST", replicaApi + "/reload", "{}").status()).isIn(200, 202);
    Answer restarted = send("POST", replicaApi + "/restart", "{}");
    assertThat(restarted.status()).as(restarted.body()).isEqualTo(200);
    assertThat(restarted.body()).contains("restarted successfully");
    assertThat(send("POST", replicaApi + "/restart", "{\"role\":\"primary\"}").status()).isEqualTo(503);
    String inAnHour = OffsetDateTime.now().plusHours(1).withNano(0).toString();
    assertThat(send("POST", replicaApi + "/restart", "{\"schedule\":\"" + inAnHour + "\"}").status()).isEqualTo(202);
    assertThat(send("POST", replicaApi + "/restart", "{\"schedule\":\"" + inAnHour + "\"}").status()).isEqualTo(409);
    assertThat(send("DELETE", replicaApi + "/restart", "").status()).isEqualTo(200);
    assertThat(send("DELETE", replicaApi + "/restart", "").status()).isEqualTo(404);
    assertThat(send("POST", leaderApi + "/reinitialize", "{}").status()).isEqualTo(503);
    assertThat(send("POST", leaderApi + "/nonexistent", "{}").status()).isEqualTo(501);
    cluster.awaitStreamingReplicas(2, Duration.ofSeconds(60));
  }

  private static Answer get(String url) {
    return send("GET", url, null);
  }

  private static int head(String url) {
    try {
      return HTTP.send(HttpRequest.newBuilder(URI.create(url)).method("HEAD", HttpRequest.BodyPublishers.noBody())
          .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
    } catch (Exception e) {
      throw new AssertionError("HEAD " + url + ": " + e, e);
    }
  }

  private static Answer send(String method, String url, String body) {
    try {
      HttpRequest.BodyPublisher publisher = body == null || body.isEmpty() ? HttpRequest.BodyPublishers.noBody()
          : HttpRequest.BodyPublishers.ofString(body);
      HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(url)).method(method, publisher)
          .timeout(Duration.ofSeconds(60)).build(), HttpResponse.BodyHandlers.ofString());
      return new Answer(r.statusCode(), r.body());
    } catch (Exception e) {
      throw new AssertionError(method + " " + url + ": " + e, e);
    }
  }
}
