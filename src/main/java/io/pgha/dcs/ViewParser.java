package io.pgha.dcs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.config.Values;
import io.pgha.decision.ClusterView;
import io.pgha.decision.FailoverRequest;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.SyncState;
import java.nio.charset.StandardCharsets;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;

/**
 * The one parser of Patroni's znode layout (§1.1, §1.3): turns raw znode contents into a {@link ClusterView} for
 * the agent's decisions, into a {@link ClusterSnapshot} for what the REST API and the CLI show, and answers the
 * REST API's questions about a single {@code failover} value. Tolerant of garbage, as Patroni is. Paths are in
 * {@link ZkLayout}; reading is the caller's business (ZooKeeperDcs, the REST API's asynchronous calls, the CLI).
 */
public final class ViewParser {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** Like Python's json.loads: trailing text after a value is an error, not ignored. */
  private static final ObjectMapper STRICT_JSON = new ObjectMapper()
      .enable(com.fasterxml.jackson.databind.DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private ViewParser() {}

  /**
   * Raw data of the znodes that exist; absent keys are null.
   *
   * @param legacyOptime {@code optime/leader} (Patroni < 2.1), read only when {@code status} is absent, else null
   */
  public record RawCluster(
      byte[] leader, long leaderOwner, Map<String, byte[]> members, byte[] initialize, byte[] config,
      byte[] failover, byte[] history, byte[] status, byte[] sync, int syncVersion, byte[] legacyOptime,
      byte[] failsafe) {

    public RawCluster(byte[] leader, long leaderOwner, Map<String, byte[]> members, byte[] initialize, byte[] config,
        byte[] failover, byte[] history, byte[] status, byte[] sync, int syncVersion, byte[] legacyOptime) {
      this(leader, leaderOwner, members, initialize, config, failover, history, status, sync, syncVersion,
          legacyOptime, null);
    }

    public RawCluster(byte[] leader, long leaderOwner, Map<String, byte[]> members, byte[] initialize, byte[] config,
        byte[] failover, byte[] history, byte[] status, byte[] sync, int syncVersion) {
      this(leader, leaderOwner, members, initialize, config, failover, history, status, sync, syncVersion, null);
    }

    public RawCluster(byte[] leader, long leaderOwner, Map<String, byte[]> members, byte[] initialize, byte[] config,
        byte[] failover, byte[] history, byte[] status) {
      this(leader, leaderOwner, members, initialize, config, failover, history, status, null, -1);
    }
  }

  public static ClusterView parse(RawCluster raw, long mySessionId) {
    String leader = raw.leader() == null ? null : text(raw.leader()).trim();
    if (leader != null && leader.isEmpty()) leader = null;
    boolean leaderIsMe = leader != null && mySessionId != 0 && raw.leaderOwner() == mySessionId;
    Map<String, MemberRecord> members = new TreeMap<>();
    raw.members().forEach((name, data) -> members.put(name, member(name, data)));
    String initialize = raw.initialize() == null ? null : text(raw.initialize()).trim();
    return new ClusterView(leader, leaderIsMe, Map.copyOf(members), initialize, config(raw.config()),
        failover(raw.failover()), clusterTimeline(raw.history()), optime(raw.status()), configError(raw.config()),
        sync(raw.sync(), raw.syncVersion()), failsafe(raw.failsafe()));
  }

  /** §10.2: {@code failsafe} as name to api_url; null when absent or not a JSON object of strings (garbage). */
  public static Map<String, String> failsafe(byte[] data) {
    if (data == null) return null;
    ObjectNode node = object(data);
    if (node == null) return null;
    Map<String, String> out = new TreeMap<>();
    for (var it = node.fields(); it.hasNext(); ) {
      var e = it.next();
      if (!e.getValue().isTextual()) return null;
      out.put(e.getKey(), e.getValue().asText());
    }
    return out;
  }

  /**
   * What {@code patronictl list} and {@code GET /cluster} see: members' JSON as written (legacy connection-URL
   * values become {@code {"conn_url": ...}}), sorted by name; {@code config} and {@code failover} as objects;
   * {@code sync_standby} names; the optime from {@code status} or else {@code optime/leader}. Keys' text untrimmed.
   */
  public static ClusterSnapshot snapshot(RawCluster raw) {
    List<ClusterSnapshot.Member> members = new ArrayList<>();
    new TreeMap<>(raw.members()).forEach((name, data) -> {
      if (data != null) members.add(new ClusterSnapshot.Member(name, memberData(text(data))));
    });
    Set<String> sync = Set.of();
    ObjectNode syncState = raw.sync() == null ? null : object(raw.sync());
    if (syncState != null && syncState.hasNonNull("sync_standby")) {
      sync = Arrays.stream(syncState.get("sync_standby").asText().split(","))
          .map(String::trim).filter(s -> !s.isEmpty()).collect(Collectors.toUnmodifiableSet());
    }
    ObjectNode failover = raw.failover() == null ? null : object(raw.failover());
    if (failover != null && failover.isEmpty()) failover = null;
    return new ClusterSnapshot(
        raw.initialize() == null ? null : text(raw.initialize()),
        raw.config() == null ? null : object(raw.config()),
        raw.leader() == null ? null : text(raw.leader()),
        List.copyOf(members), snapshotOptime(raw.status(), raw.legacyOptime()), sync, failover);
  }

  private static long snapshotOptime(byte[] status, byte[] legacyOptime) {
    String value = null;
    if (status != null) {
      JsonNode parsed = json(status);
      if (parsed != null && parsed.isObject()) {
        value = parsed.path("optime").asText(null);
      } else if (parsed != null && parsed.isIntegralNumber()) {
        value = parsed.asText();
      }
    } else if (legacyOptime != null) {
      value = text(legacyOptime);
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
    ObjectNode data = object(value.getBytes(StandardCharsets.UTF_8));
    return data != null ? data : JsonNodeFactory.instance.objectNode();
  }

  private static ObjectNode object(byte[] data) {
    JsonNode node = json(data);
    return node != null && node.isObject() ? (ObjectNode) node : null;
  }

  /**
   * Whether a {@code failover} value still asks for something: {@code {}}, empty, absent or no leader and no member
   * = no request (§1.3); a legacy {@code leader:candidate} text counts when either name is there.
   */
  public static boolean failoverPending(byte[] data) {
    if (data == null || data.length == 0) {
      return false;
    }
    String text = text(data).trim();
    JsonNode node;
    try {
      node = JSON.readTree(text);
    } catch (Exception legacy) {
      return !text.replace(":", "").isBlank(); // legacy "leader:candidate"
    }
    if (node == null || !node.isObject()) {
      return false;
    }
    return !node.path("leader").asText("").isBlank() || !node.path("member").asText("").isBlank();
  }

  /** Whether a {@code failover} value has a {@code scheduled_at}. */
  public static boolean failoverScheduled(byte[] data) {
    if (data == null || data.length == 0) {
      return false;
    }
    JsonNode node = json(data);
    return node != null && node.isObject() && !node.path("scheduled_at").asText("").isBlank();
  }

  /** §4.3: {@code {"leader": L, "sync_standby": "a,b" | null, "quorum": N}}; garbage or {@code {}} counts as empty. */
  static SyncState sync(byte[] data, int version) {
    JsonNode node = json(data);
    if (node == null || !node.isObject() || textOrNull(node.get("leader")) == null) {
      return new SyncState(null, Set.of(), data == null ? -1 : version);
    }
    Set<String> standbys = new TreeSet<>();
    String listed = textOrNull(node.get("sync_standby"));
    if (listed != null) {
      for (String name : listed.split(",")) {
        if (!name.isBlank()) standbys.add(name.trim());
      }
    }
    JsonNode quorum = node.get("quorum"); // 3.x has none: 0
    int q = quorum != null && quorum.canConvertToInt() ? quorum.asInt() : 0;
    if (quorum != null && quorum.isTextual()) {
      try {
        q = Integer.parseInt(quorum.asText().trim());
      } catch (NumberFormatException e) {
        q = 0;
      }
    }
    return new SyncState(textOrNull(node.get("leader")).trim(), standbys, q, version);
  }

  /** Why {@code config} is unusable, or null: it is absent, or a JSON object (§1.3: anything else is kept out). */
  static String configError(byte[] data) {
    if (data == null || data.length == 0) return null;
    try {
      JsonNode node = STRICT_JSON.readTree(data);
      if (node == null || node.isObject()) return null;
      return "config is not a JSON object: " + abbreviate(text(data));
    } catch (Exception e) {
      String why = e.getMessage() == null ? e.toString() : e.getMessage().lines().findFirst().orElse("");
      return "config is not valid JSON (" + why + "): " + abbreviate(text(data));
    }
  }

  private static String abbreviate(String s) {
    String oneLine = s.replaceAll("\\s+", " ").trim();
    return oneLine.length() <= 120 ? oneLine : oneLine.substring(0, 117) + "...";
  }

  static MemberRecord member(String name, byte[] data) {
    JsonNode node = json(data);
    if (node == null || !node.isObject()) {
      return new MemberRecord(name, null, null, null, null, null, null, false, null, false, false, null, false);
    }
    JsonNode tags = node.path("tags");
    Long failoverPriority = Values.integer(tags.get("failover_priority"));
    Long syncPriority = Values.integer(tags.get("sync_priority"));
    return new MemberRecord(name,
        textOrNull(node.get("conn_url")),
        textOrNull(node.get("api_url")),
        textOrNull(node.get("state")),
        textOrNull(node.get("role")),
        Values.integer(node.get("xlog_location")),
        intOrNull(node.get("timeline")),
        Values.bool(tags.get("nofailover"), false),
        failoverPriority == null ? null : failoverPriority.intValue(),
        Values.bool(tags.get("clonefrom"), false),
        Values.bool(tags.get("nostream"), false),
        textOrNull(tags.get("replicatefrom")),
        node.has("checkpoint_after_promote") && !Values.bool(node.get("checkpoint_after_promote"), true),
        Values.bool(tags.get("nosync"), false),
        syncPriority == null ? null : syncPriority.intValue());
  }

  private static Integer intOrNull(JsonNode node) {
    Long value = Values.integer(node);
    return value == null ? null : value.intValue();
  }

  static DynamicConfig config(byte[] data) {
    if (data == null || data.length == 0) return null;
    try {
      JsonNode node = STRICT_JSON.readTree(data);
      return node != null && node.isObject() ? DynamicConfigJson.parse(node) : null;
    } catch (Exception notJson) {
      return null; // configError says why
    }
  }

  static FailoverRequest failover(byte[] data) {
    if (data == null || data.length == 0) return null;
    JsonNode node;
    try {
      node = STRICT_JSON.readTree(data);
    } catch (Exception notJson) {
      // legacy plain text "leader:candidate" or just "leader", as Patroni reads it (value.split(':'))
      String[] parts = text(data).split(":", -1);
      return emptyToNull(parts[0], parts.length > 1 ? parts[1] : null, null);
    }
    if (node == null || !node.isObject() || node.isEmpty()) return null;
    Long at = null;
    String scheduled = textOrNull(node.get("scheduled_at"));
    if (scheduled != null) {
      try {
        at = OffsetDateTime.parse(scheduled).toInstant().toEpochMilli();
      } catch (DateTimeParseException e) {
        at = null;
      }
    }
    return emptyToNull(textOrNull(node.get("leader")), textOrNull(node.get("member")), at);
  }

  private static FailoverRequest emptyToNull(String leader, String member, Long at) {
    String l = leader == null || leader.isBlank() ? null : leader.trim();
    String m = member == null || member.isBlank() ? null : member.trim();
    return l == null && m == null ? null : new FailoverRequest(l, m, at);
  }

  static int clusterTimeline(byte[] data) {
    JsonNode node = json(data);
    if (node == null || !node.isArray()) return 0;
    if (node.isEmpty()) return 1;
    JsonNode last = node.get(node.size() - 1);
    Long tl = last.isArray() && last.size() > 0 ? Values.integer(last.get(0)) : null;
    return tl == null ? 0 : tl.intValue() + 1;
  }

  static long optime(byte[] data) {
    JsonNode node = json(data);
    if (node == null) return 0;
    if (node.isNumber()) return node.asLong();
    Long optime = Values.integer(node.get("optime"));
    return optime == null ? 0 : optime;
  }

  private static JsonNode json(byte[] data) {
    if (data == null || data.length == 0) return null;
    try {
      return JSON.readTree(data);
    } catch (Exception e) {
      return null;
    }
  }

  private static String textOrNull(JsonNode node) {
    return node == null || node.isNull() ? null : node.asText();
  }

  private static String text(byte[] data) {
    return new String(data, StandardCharsets.UTF_8);
  }
}
