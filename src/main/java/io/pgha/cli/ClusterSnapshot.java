package io.pgha.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import org.apache.curator.framework.CuratorFramework;
import org.apache.zookeeper.KeeperException;

/**
 * One read of a cluster's keys under {@code /<namespace>/<scope>} (patroni-compat §1.7), as {@code patronictl list}
 * sees them: what the table, the demo and the integration tests need, nothing an agent decides on.
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

  private static final ObjectMapper JSON = new ObjectMapper();

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

  /** Reads the cluster under {@code basePath} in one pass; keys that do not exist stay null/empty. */
  public static ClusterSnapshot read(CuratorFramework client, String basePath) throws Exception {
    List<String> keys = children(client, basePath);
    String initialize = keys.contains("initialize") ? text(client, basePath + "/initialize") : null;
    ObjectNode config = keys.contains("config") ? object(text(client, basePath + "/config")) : null;
    List<Member> members = new ArrayList<>();
    if (keys.contains("members")) {
      for (String name : children(client, basePath + "/members")) {
        String value = text(client, basePath + "/members/" + name);
        if (value != null) {
          members.add(new Member(name, memberData(value)));
        }
      }
    }
    members.sort(Comparator.comparing(Member::name));
    String leader = keys.contains("leader") ? text(client, basePath + "/leader") : null;
    long optime = optime(client, basePath);
    Set<String> sync = Set.of();
    if (keys.contains("sync")) {
      ObjectNode syncState = object(text(client, basePath + "/sync"));
      if (syncState != null && syncState.hasNonNull("sync_standby")) {
        sync = Arrays.stream(syncState.get("sync_standby").asText().split(","))
            .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
      }
    }
    ObjectNode failover = keys.contains("failover") ? object(text(client, basePath + "/failover")) : null;
    if (failover != null && failover.isEmpty()) {
      failover = null;
    }
    return new ClusterSnapshot(initialize, config, leader, List.copyOf(members), optime, sync, failover);
  }

  private static long optime(CuratorFramework client, String basePath) throws Exception {
    String status = text(client, basePath + "/status");
    String value = null;
    if (status != null) {
      JsonNode parsed = parse(status);
      if (parsed != null && parsed.isObject()) {
        value = parsed.path("optime").asText(null);
      } else if (parsed != null && parsed.isIntegralNumber()) {
        value = parsed.asText();
      }
    } else {
      value = text(client, basePath + "/optime/leader");
    }
    try {
      return value == null ? 0 : Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  private static ObjectNode memberData(String value) {
    if (value.startsWith("postgres")) {
      // legacy member value: a connection URL, without the JSON fields patronictl would show
      ObjectNode data = JsonNodeFactory.instance.objectNode();
      data.put("conn_url", value.split("\\?", 2)[0]);
      return data;
    }
    ObjectNode data = object(value);
    return data != null ? data : JsonNodeFactory.instance.objectNode();
  }

  private static List<String> children(CuratorFramework client, String path) throws Exception {
    try {
      return client.getChildren().forPath(path);
    } catch (KeeperException.NoNodeException e) {
      return List.of();
    }
  }

  private static String text(CuratorFramework client, String path) throws Exception {
    try {
      byte[] data = client.getData().forPath(path);
      return data == null ? "" : new String(data, StandardCharsets.UTF_8);
    } catch (KeeperException.NoNodeException e) {
      return null;
    }
  }

  private static JsonNode parse(String text) {
    if (text == null) {
      return null;
    }
    try {
      return JSON.readTree(text);
    } catch (Exception e) {
      return null;
    }
  }

  private static ObjectNode object(String text) {
    JsonNode node = parse(text);
    return node != null && node.isObject() ? (ObjectNode) node : null;
  }

  /** Patroni's parse_bool: on/true/yes/1 (any case). */
  static boolean parseBool(JsonNode value) {
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
