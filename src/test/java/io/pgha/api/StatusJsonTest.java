package io.pgha.api;

import static io.pgha.api.Statuses.leader;
import static io.pgha.api.Statuses.replica;
import static io.pgha.api.Statuses.tags;
import static io.pgha.api.Statuses.with;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.model.NodeStatus;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class StatusJsonTest {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  /** rest/leader/GET_patroni.body */
  private static final String LEADER_302 = """
      {"state": "running", "postmaster_start_time": "2026-11-24 01:12:17.073690+00:00", "role": "master", \
      "server_version": 150018, "xlog": {"location": 67909176}, "timeline": 6, "replication": [{"usename": \
      "replicator", "application_name": "postgresql1", "client_addr": "127.0.0.1", "state": "streaming", \
      "sync_state": "async", "sync_priority": 0}, {"usename": "replicator", "application_name": "postgresql0", \
      "client_addr": "127.0.0.1", "state": "streaming", "sync_state": "async", "sync_priority": 0}], \
      "dcs_last_seen": 1795482798, "database_system_identifier": "7711537902423831623", "patroni": \
      {"version": "3.0.2", "scope": "batman"}}""";

  /** rest/replica/GET_patroni.body */
  private static final String REPLICA_302 = """
      {"state": "running", "postmaster_start_time": "2026-11-24 01:12:44.085903+00:00", "role": "replica", \
      "server_version": 150018, "xlog": {"received_location": 67909176, "replayed_location": 67909176, \
      "replayed_timestamp": "2026-11-24 01:13:19.609041+00:00", "paused": false}, "timeline": 6, \
      "dcs_last_seen": 1795482798, "database_system_identifier": "7711537902423831623", "patroni": \
      {"version": "3.0.2", "scope": "batman"}}""";

  @Test
  void leaderBodyMatchesPatroni302ExceptRoleNameAndMemberName() throws Exception {
    ObjectNode expected = (ObjectNode) MAPPER.readTree(LEADER_302);
    expected.put("role", "primary"); // 4.x name
    ((ObjectNode) expected.get("patroni")).put("name", "postgresql2"); // since 3.2

    JsonNode actual = MAPPER.readTree(StatusJson.render(leader()));

    assertThat(actual).isEqualTo(expected);
    assertThat(keys(actual)).containsExactlyElementsOf(keys(expected));
    assertThat(keys(actual.get("replication").get(0))).containsExactly(
        "usename", "application_name", "client_addr", "state", "sync_state", "sync_priority");
    assertThat(keys(actual.get("patroni"))).containsExactly("version", "scope", "name");
  }

  @Test
  void replicaBodyMatchesPatroni302ExceptMemberName() throws Exception {
    ObjectNode expected = (ObjectNode) MAPPER.readTree(REPLICA_302);
    ((ObjectNode) expected.get("patroni")).put("name", "postgresql0");

    JsonNode actual = MAPPER.readTree(StatusJson.render(replica()));

    assertThat(actual).isEqualTo(expected);
    assertThat(keys(actual)).containsExactlyElementsOf(keys(expected));
    assertThat(keys(actual.get("xlog")))
        .containsExactly("received_location", "replayed_location", "replayed_timestamp", "paused");
  }

  @Test
  void integersAreJsonIntegers() throws Exception {
    JsonNode leader = MAPPER.readTree(StatusJson.render(leader()));
    JsonNode replica = MAPPER.readTree(StatusJson.render(replica()));

    assertThat(leader.get("server_version").isIntegralNumber()).isTrue();
    assertThat(leader.get("timeline").isIntegralNumber()).isTrue();
    assertThat(leader.get("dcs_last_seen").isIntegralNumber()).isTrue();
    assertThat(leader.get("xlog").get("location").isIntegralNumber()).isTrue();
    assertThat(leader.get("replication").get(0).get("sync_priority").isIntegralNumber()).isTrue();
    assertThat(replica.get("xlog").get("replayed_location").isIntegralNumber()).isTrue();
    assertThat(replica.get("xlog").get("paused").isBoolean()).isTrue();
    assertThat(leader.get("database_system_identifier").isTextual()).isTrue();
  }

  @Test
  void postgresDownHasNoXlogNorQueryFields() throws Exception {
    NodeStatus down = with(leader(), "state", "stopped", "pgQueryable", false);

    JsonNode json = MAPPER.readTree(StatusJson.render(down));

    assertThat(keys(json)).containsExactly(
        "state", "role", "dcs_last_seen", "database_system_identifier", "patroni");
    assertThat(json.get("state").asText()).isEqualTo("stopped");
    assertThat(json.get("role").asText()).isEqualTo("primary");
  }

  @Test
  void runningButQueryFailedIsUnknown() throws Exception {
    JsonNode json = MAPPER.readTree(StatusJson.render(with(replica(), "pgQueryable", false)));

    assertThat(json.get("state").asText()).isEqualTo("unknown");
    assertThat(json.has("xlog")).isFalse();
  }

  @Test
  void optionalFlagsOnlyWhenSetInPatroniOrder() throws Exception {
    NodeStatus s = with(replica(), "paused", true, "clusterUnlocked", true, "syncStandby", true,
        "replicationState", "streaming", "tags", tags("{\"nofailover\":true,\"zone\":\"eu-1\"}"));

    JsonNode json = MAPPER.readTree(StatusJson.render(s));

    assertThat(keys(json)).containsExactly("state", "postmaster_start_time", "role", "server_version", "xlog",
        "sync_standby", "timeline", "replication_state", "pause", "cluster_unlocked", "dcs_last_seen", "tags",
        "database_system_identifier", "patroni");
    assertThat(json.get("pause").asBoolean()).isTrue();
    assertThat(json.get("cluster_unlocked").asBoolean()).isTrue();
    assertThat(json.get("sync_standby").asBoolean()).isTrue();
    assertThat(json.get("replication_state").asText()).isEqualTo("streaming");
    assertThat(json.get("tags")).isEqualTo(tags("{\"nofailover\":true,\"zone\":\"eu-1\"}"));

    JsonNode plain = MAPPER.readTree(StatusJson.render(replica()));
    assertThat(plain.has("pause") || plain.has("cluster_unlocked") || plain.has("sync_standby")
        || plain.has("tags") || plain.has("replication") || plain.has("replication_state")).isFalse();
  }

  /** §10.2: Patroni's {@code failsafe_mode_is_active}, after cluster_unlocked, only while active. */
  @Test
  void failsafeModeIsActiveOnlyWhileActive() throws Exception {
    JsonNode json = MAPPER.readTree(StatusJson.render(with(replica(), "clusterUnlocked", true, "failsafeActive", true)));

    assertThat(keys(json)).containsSubsequence("cluster_unlocked", "failsafe_mode_is_active", "dcs_last_seen");
    assertThat(json.get("failsafe_mode_is_active").asBoolean()).isTrue();
    assertThat(MAPPER.readTree(StatusJson.render(replica())).has("failsafe_mode_is_active")).isFalse();
  }

  @Test
  void syncStandbyIsAReplicaFlag() throws Exception {
    JsonNode json = MAPPER.readTree(StatusJson.render(with(leader(), "syncStandby", true)));

    assertThat(json.has("sync_standby")).isFalse();
  }

  @Test
  void missingSystemIdentifierAndDcsReadAreHandled() throws Exception {
    NodeStatus s = with(replica(), "systemIdentifier", null, "dcsLastSeenEpochSeconds", null);

    JsonNode json = MAPPER.readTree(StatusJson.render(s));

    assertThat(json.has("database_system_identifier")).isFalse();
    assertThat(json.get("dcs_last_seen").asLong()).isZero();
  }

  private static List<String> keys(JsonNode node) {
    List<String> keys = new ArrayList<>();
    node.fieldNames().forEachRemaining(keys::add);
    return keys;
  }
}
