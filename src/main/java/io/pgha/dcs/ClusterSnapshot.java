package io.pgha.dcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * One read of a cluster's keys under {@code /<namespace>/<scope>} (patroni-compat §1.7), as {@code patronictl list}
 * sees them: what the REST API's {@code GET /cluster} and switchover checks, the CLI's table, the demo and the
 * integration tests need, nothing an agent decides on. Parsed by {@link ViewParser#snapshot} from the same bytes the
 * agent's {@link io.pgha.decision.ClusterView} comes from.
 *
 * @param initialize content of {@code initialize}: null when absent, "" while a bootstrap runs, else the sysid
 * @param config the {@code config} object, or null when absent or not a JSON object
 * @param leader name in {@code leader}, or null when nobody holds the key
 * @param members member keys sorted by name, as patronictl sorts them
 * @param optime {@code status.optime} (falling back to {@code optime/leader}), 0 when unknown
 * @param syncStandbys names in {@code sync.sync_standby}
 * @param failover the {@code failover} object, or null when absent or empty
 */
public record ClusterSnapshot(
    String initialize,
    ObjectNode config,
    String leader,
    List<Member> members,
    long optime,
    Set<String> syncStandbys,
    ObjectNode failover) {

  /** One {@code members/<name>} key; {@code data} is its JSON object (empty when unparsable). */
  public record Member(String name, ObjectNode data) {

    public String state() {
      return data.path("state").asText("");
    }

    /** Role the member reports for itself ({@code master}/{@code primary}, {@code replica}, ...). */
    public String role() {
      return data.path("role").asText("");
    }

    public String apiUrl() {
      return data.path("api_url").asText(null);
    }

    public String connUrl() {
      return data.path("conn_url").asText(null);
    }

    /** {@code xlog_location} when it is a number. */
    public Optional<Long> xlogLocation() {
      JsonNode lsn = data.get("xlog_location");
      return lsn != null && lsn.isIntegralNumber() ? Optional.of(lsn.asLong()) : Optional.empty();
    }

    public boolean isRunningPrimary() {
      return state().equals("running") && (role().equals("master") || role().equals("primary"));
    }

    /** A replica that is running and, when it says so (Patroni ≥ 3.0.4, pgha), streaming. */
    public boolean isRunningReplica() {
      JsonNode replicationState = data.get("replication_state");
      return state().equals("running") && role().equals("replica")
          && (replicationState == null || replicationState.asText().equals("streaming"));
    }
  }

  /** The member holding the leader key, if it has a member key too. */
  public Optional<Member> leaderMember() {
    return member(leader);
  }

  public Optional<Member> member(String name) {
    return members.stream().filter(m -> m.name().equals(name)).findFirst();
  }

  /** Whether {@code config} has {@code pause} set (patronictl shows "Maintenance mode: on"). */
  public boolean paused() {
    return config != null && parseBool(config.get("pause"));
  }

  /** A standby cluster's leader holds the key with role {@code standby_leader}. */
  public boolean standbyCluster() {
    if (config == null || !config.path("standby_cluster").isObject()) {
      return false;
    }
    JsonNode standby = config.get("standby_cluster");
    return truthy(standby.get("host")) || truthy(standby.get("port")) || truthy(standby.get("restore_command"));
  }

  /**
   * Reads the cluster under {@code basePath} in one pass, blocking (the CLI, the demo, tests; the REST API gathers
   * the same znodes asynchronously); keys that do not exist stay null/empty. {@link ViewParser#snapshot} parses.
   */
  public static ClusterSnapshot read(CuratorFramework client, String basePath) throws Exception {
    ZkLayout layout = new ZkLayout(basePath);
    List<String> keys = children(client, basePath);
    Map<String, byte[]> members = new TreeMap<>();
    if (keys.contains("members")) {
      for (String name : children(client, layout.members())) {
        byte[] value = data(client, layout.member(name));
        if (value != null) {
          members.put(name, value);
        }
      }
    }
    byte[] status = data(client, layout.status());
    return ViewParser.snapshot(new ViewParser.RawCluster(
        keys.contains("leader") ? data(client, layout.leader()) : null, 0, members,
        keys.contains("initialize") ? data(client, layout.initialize()) : null,
        keys.contains("config") ? data(client, layout.config()) : null,
        keys.contains("failover") ? data(client, layout.failover()) : null,
        null, status,
        keys.contains("sync") ? data(client, layout.sync()) : null, -1,
        status == null ? data(client, layout.legacyOptime()) : null));
  }

  private static List<String> children(CuratorFramework client, String path) throws Exception {
    try {
      return client.getChildren().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
  }

  /** The znode's data ({@code []} for none), or null when it does not exist. */
  private static byte[] data(CuratorFramework client, String path) throws Exception {
    try {
      byte[] data = client.getData().forPath(path);
      return data == null ? new byte[0] : data;
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  /** Patroni's parse_bool: on/true/yes/1 (any case). */
  public static boolean parseBool(JsonNode value) {
    if (value == null || value.isNull()) {
      return false;
    }
    String text = value.asText().toLowerCase();
    return text.equals("on") || text.equals("true") || text.equals("yes") || text.equals("1");
  }

  private static boolean truthy(JsonNode value) {
    if (value == null || value.isNull()) {
      return false;
    }
    if (value.isNumber()) {
      return value.asDouble() != 0;
    }
    if (value.isBoolean()) {
      return value.asBoolean();
    }
    return !value.asText().isEmpty();
  }
}
