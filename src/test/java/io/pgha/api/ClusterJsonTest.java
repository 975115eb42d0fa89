package io.pgha.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.dcs.ClusterSnapshot;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code GET /cluster} bodies from snapshots (§5.6), one rule of Patroni's cluster_as_json per test. */
class ClusterJsonTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  @Test
  void specExampleSyncStandbyWithLsnsAndScheduledSwitchover() throws Exception {
    ClusterSnapshot cluster = snapshot("{\"synchronous_mode\":true}", "pg-node-1", 0x4000060L, Set.of("pg-node-2"),
        "{\"leader\":\"pg-node-1\",\"member\":\"pg-node-2\",\"scheduled_at\":\"2024-09-24T10:36:00+02:00\"}",
        member("pg-node-2", "{\"conn_url\":\"postgres://10.0.0.12:5432/postgres\",\"api_url\":\"http://10.0.0.12:8008"
            + "/patroni\",\"state\":\"running\",\"role\":\"replica\",\"replication_state\":\"streaming\","
            + "\"timeline\":5,\"xlog_location\":67108960,\"receive_lsn\":67108960,\"replay_lsn\":67108960}"),
        member("pg-node-1", "{\"conn_url\":\"postgres://10.0.0.11:5432/postgres\",\"api_url\":\"http://10.0.0.11:8008"
            + "/patroni\",\"state\":\"running\",\"role\":\"primary\",\"timeline\":5,\"xlog_location\":67108960}"));

    // as a client parses it (the tree itself holds longs where parsing gives ints)
    assertThat(JSON.readTree(JSON.writeValueAsString(ClusterJson.render(cluster, "batman")))).isEqualTo(JSON.readTree(
        "{\"members\":[{\"name\":\"pg-node-1\",\"role\":\"leader\",\"state\":\"running\",\"api_url\":"
            + "\"http://10.0.0.11:8008/patroni\",\"host\":\"10.0.0.11\",\"port\":5432,\"timeline\":5},"
            + "{\"name\":\"pg-node-2\",\"role\":\"sync_standby\",\"state\":\"streaming\",\"api_url\":"
            + "\"http://10.0.0.12:8008/patroni\",\"host\":\"10.0.0.12\",\"port\":5432,\"timeline\":5,"
            + "\"receive_lsn\":\"0/4000060\",\"receive_lag\":0,\"replay_lsn\":\"0/4000060\",\"replay_lag\":0,"
            + "\"lsn\":\"0/4000060\",\"lag\":0}],"
            + "\"scheduled_switchover\":{\"at\":\"2024-09-24T10:36:00+02:00\",\"from\":\"pg-node-1\",\"to\":\"pg-node-2\"},"
            + "\"scope\":\"batman\"}"));
  }

  @Test
  void syncStandbyOnlyInSyncModeAndQuorumStandbyInQuorumMode() throws Exception {
    ObjectNode replica = member("b", "{\"state\":\"running\"}").data();
    assertThat(role(snapshot("{}", "a", 0, Set.of("b"), null, member("a", "{}"), member("b", replica.toString())), 1))
        .isEqualTo("replica");
    assertThat(role(snapshot("{\"synchronous_mode\":\"on\"}", "a", 0, Set.of(" B "), null, member("a", "{}"),
        member("b", replica.toString())), 1)).isEqualTo("sync_standby");
    assertThat(role(snapshot("{\"synchronous_mode\":\"quorum\"}", "a", 0, Set.of("b"), null, member("a", "{}"),
        member("b", replica.toString())), 1)).isEqualTo("quorum_standby");
  }

  @Test
  void standbyLeaderShowsItsReplicationState() throws Exception {
    ClusterSnapshot cluster = snapshot("{\"standby_cluster\":{\"host\":\"10.1.1.1\"},\"synchronous_mode\":true}", "a",
        0, Set.of("b"), null,
        member("a", "{\"state\":\"running\",\"replication_state\":\"streaming\",\"xlog_location\":5}"),
        member("b", "{\"state\":\"running\"}"));

    ObjectNode json = ClusterJson.render(cluster, "s");

    JsonNode leader = json.get("members").get(0);
    assertThat(leader.get("role").asText()).isEqualTo("standby_leader");
    assertThat(leader.get("state").asText()).isEqualTo("streaming"); // the test is role != "leader"
    assertThat(leader.has("lag")).isFalse();
    assertThat(json.get("members").get(1).get("role").asText()).isEqualTo("replica"); // no sync in a standby cluster
  }

  @Test
  void lagsAgainstTheClusterOptimeAndUnknownWithoutLsn() throws Exception {
    ClusterSnapshot cluster = snapshot("{\"pause\":\"on\"}", null, 1000, Set.of(), "{\"leader\":\"a\"}",
        member("a", "{\"xlog_location\":900,\"receive_lsn\":\"1200\",\"replay_lsn\":0,\"state\":\"running\","
            + "\"replication_state\":null,\"pending_restart\":true,\"pending_restart_reason\":{\"x\":{}},"
            + "\"scheduled_restart\":{\"schedule\":\"s\"}}"));

    ObjectNode json = ClusterJson.render(cluster, "s");

    JsonNode m = json.get("members").get(0);
    assertThat(m.get("role").asText()).isEqualTo("replica"); // nobody holds the leader key
    assertThat(m.get("state").asText()).isEqualTo("running");
    assertThat(m.get("lsn").asText()).isEqualTo("0/384");
    assertThat(m.get("lag").asLong()).isEqualTo(100);
    assertThat(m.get("receive_lsn").asText()).isEqualTo("0/4B0");
    assertThat(m.get("receive_lag").asLong()).isZero(); // ahead of the optime
    assertThat(m.get("replay_lsn").asText()).isEqualTo("unknown");
    assertThat(m.get("replay_lag").asText()).isEqualTo("unknown");
    assertThat(m.has("api_url")).isTrue();
    assertThat(m.get("api_url").isNull()).isTrue();
    assertThat(m.has("host")).isFalse();
    assertThat(m.get("pending_restart").asBoolean()).isTrue();
    assertThat(m.get("scheduled_restart").get("schedule").asText()).isEqualTo("s");
    assertThat(json.get("pause").asBoolean()).isTrue();
    assertThat(json.has("scheduled_switchover")).isFalse(); // a failover key without scheduled_at
  }

  @ParameterizedTest
  @CsvSource(delimiter = '|', value = {
      "postgres://10.0.0.1:5433/postgres|10.0.0.1|5433",
      "postgres://user:pw@DB.Example.com/postgres|db.example.com|5432",
      "postgresql://[fe80::1]:6432/db?sslmode=require|fe80::1|6432",
      "postgres://10.0.0.1:0/postgres|10.0.0.1|5432"})
  void hostAndPortFromConnUrl(String url, String host, int port) {
    ClusterJson.HostPort hp = ClusterJson.hostPort(JSON.createObjectNode().put("conn_url", url));
    assertThat(hp).isEqualTo(new ClusterJson.HostPort(host, port));
  }

  @Test
  void hostAndPortFromConnKwargs() throws Exception {
    assertThat(ClusterJson.hostPort((ObjectNode) JSON.readTree("{\"conn_kwargs\":{\"host\":\"h\",\"port\":\"6543\"},"
        + "\"conn_url\":\"postgres://x:1/db\"}"))).isEqualTo(new ClusterJson.HostPort("h", 6543));
    assertThat(ClusterJson.hostPort(JSON.createObjectNode())).isNull();
  }

  @ParameterizedTest
  @CsvSource({
      "2024-09-24T10:36:00+02:00, 2024-09-24T10:36:00+02:00",
      "2024-09-24T08:36:00Z, 2024-09-24T08:36:00+00:00",
      "2024-09-24 08:36:00.5+00:00, 2024-09-24T08:36:00.500000+00:00",
      "not a date, not a date"})
  void scheduledAtAsPythonIsoformat(String stored, String shown) {
    assertThat(ClusterJson.isoformat(stored)).isEqualTo(shown);
  }

  @ParameterizedTest
  @CsvSource({"0, 0/0", "67906888, 0/40C2D48", "4294967296, 1/0", "81985529216486895, 1234567/89ABCDEF"})
  void lsnFormat(long lsn, String text) {
    assertThat(ClusterJson.formatLsn(lsn)).isEqualTo(text);
  }

  private static String role(ClusterSnapshot cluster, int index) {
    return ClusterJson.render(cluster, "s").get("members").get(index).get("role").asText();
  }

  private static ClusterSnapshot.Member member(String name, String json) throws Exception {
    return new ClusterSnapshot.Member(name, (ObjectNode) JSON.readTree(json));
  }

  private static ClusterSnapshot snapshot(String config, String leader, long optime, Set<String> sync, String failover,
      ClusterSnapshot.Member... members) throws Exception {
    List<ClusterSnapshot.Member> sorted = new ArrayList<>(List.of(members));
    sorted.sort((x, y) -> x.name().compareTo(y.name()));
    return new ClusterSnapshot("1234567890", (ObjectNode) JSON.readTree(config), leader, List.copyOf(sorted), optime,
        sync, failover == null ? null : (ObjectNode) JSON.readTree(failover));
  }
}
