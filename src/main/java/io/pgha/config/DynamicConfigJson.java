package io.pgha.config;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The JSON side of {@link DynamicConfig} (which is Jackson-free for the pure core): parsing a {@code config} tree,
 * leniently, and giving the tree back for the few readers of keys without a typed accessor.
 */
public final class DynamicConfigJson {
  private static final ObjectMapper JSON = new ObjectMapper();

  private DynamicConfigJson() {}

  /** Parses a {@code config} tree; never throws: bad values fall back to defaults with a warning. */
  public static DynamicConfig parse(JsonNode tree) {
    ObjectNode raw = tree != null && tree.isObject() ? ((ObjectNode) tree).deepCopy()
        : JsonNodeFactory.instance.objectNode();
    List<String> warnings = new ArrayList<>();
    int ttl = intAtLeast(raw, "ttl", DynamicConfig.TTL_DEFAULT, DynamicConfig.TTL_MIN, warnings);
    int loopWait = intAtLeast(raw, "loop_wait", DynamicConfig.LOOP_WAIT_DEFAULT, DynamicConfig.LOOP_WAIT_MIN,
        warnings);
    int retryTimeout = intAtLeast(raw, "retry_timeout", DynamicConfig.RETRY_TIMEOUT_DEFAULT,
        DynamicConfig.RETRY_TIMEOUT_MIN, warnings);
    if (loopWait + 2 * retryTimeout > ttl) {
      int fitted = ttl - 2 * retryTimeout;
      if (fitted >= 1) {
        warnings.add("loop_wait + 2*retry_timeout must be <= ttl: loop_wait lowered from " + loopWait + " to " + fitted);
        loopWait = fitted;
      } else {
        warnings.add("loop_wait + 2*retry_timeout must be <= ttl: loop_wait set to 1 and retry_timeout to "
            + ((ttl - 1) / 2));
        loopWait = 1;
        retryTimeout = (ttl - 1) / 2;
      }
    }
    long maxLag = longOr(raw, "maximum_lag_on_failover", DynamicConfig.MAXIMUM_LAG_ON_FAILOVER_DEFAULT, warnings);
    JsonNode startTimeout = raw.has("primary_start_timeout") ? raw.get("primary_start_timeout")
        : raw.get("master_start_timeout");
    int primaryStart = (int) Math.max(0, orDefault(startTimeout, "primary_start_timeout",
        DynamicConfig.PRIMARY_START_TIMEOUT_DEFAULT, warnings));
    JsonNode stopTimeout = raw.has("primary_stop_timeout") ? raw.get("primary_stop_timeout")
        : raw.get("master_stop_timeout");
    int primaryStop = (int) Math.max(0, orDefault(stopTimeout, "primary_stop_timeout", 0, warnings));
    DynamicConfig.SyncMode syncMode = syncMode(raw.get("synchronous_mode"));
    boolean strict = Values.bool(raw.get("synchronous_mode_strict"), false);
    int syncCount = (int) Math.max(1, longOr(raw, "synchronous_node_count", 1, warnings));
    long maxSyncLag = longOr(raw, "maximum_lag_on_syncnode", -1, warnings);
    boolean checkTimeline = Values.bool(raw.get("check_timeline"), false);
    JsonNode pg = raw.path("postgresql");
    boolean usePgRewind = Values.bool(pg.get("use_pg_rewind"), false);
    boolean useSlots = Values.bool(pg.get("use_slots"), true);
    boolean pause = Values.bool(raw.get("pause"), false);
    boolean failsafeMode = Values.bool(raw.get("failsafe_mode"), false);
    StandbyCluster standby = StandbyClusterJson.parse(raw.get("standby_cluster"), warnings);
    // §10.3: a standby cluster has no primary, so no synchronous replication (Patroni's is_synchronous_mode)
    if (standby != null) syncMode = DynamicConfig.SyncMode.OFF;
    Map<String, String> params = new LinkedHashMap<>();
    if (pg.path("parameters").isObject()) {
      for (Iterator<Map.Entry<String, JsonNode>> it = pg.get("parameters").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> e = it.next();
        params.put(e.getKey(), Values.gucText(e.getValue()));
      }
    }
    return new DynamicConfig(ttl, loopWait, retryTimeout, maxLag, primaryStart, primaryStop, syncMode, strict,
        syncCount, maxSyncLag, checkTimeline, usePgRewind, useSlots, pause, failsafeMode, standby, params,
        canonical(raw), warnings);
  }

  /** The whole {@code config} object of {@code config}, a fresh copy the caller may change. */
  public static ObjectNode tree(DynamicConfig config) {
    try {
      JsonNode node = JSON.readTree(config.raw());
      return node != null && node.isObject() ? (ObjectNode) node : JsonNodeFactory.instance.objectNode();
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("DynamicConfig.raw is not JSON: " + config.raw(), e);
    }
  }

  /** Canonical compact JSON: object keys sorted at every level, so equal trees give equal text. */
  public static String canonical(JsonNode node) {
    try {
      return JSON.writeValueAsString(sorted(node));
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static JsonNode sorted(JsonNode node) {
    if (node.isObject()) {
      ObjectNode copy = JsonNodeFactory.instance.objectNode();
      new TreeSet<String>(iterable(node.fieldNames())).forEach(name -> copy.set(name, sorted(node.get(name))));
      return copy;
    }
    if (node.isArray()) {
      ArrayNode copy = JsonNodeFactory.instance.arrayNode();
      node.forEach(element -> copy.add(sorted(element)));
      return copy;
    }
    return node;
  }

  private static <T> List<T> iterable(Iterator<T> it) {
    List<T> list = new ArrayList<>();
    it.forEachRemaining(list::add);
    return list;
  }

  /** The top-level keys whose values differ between two configurations, sorted. */
  public static List<String> changedKeys(DynamicConfig before, DynamicConfig after) {
    ObjectNode a = tree(before);
    ObjectNode b = tree(after);
    Set<String> keys = new TreeSet<>(iterable(a.fieldNames()));
    keys.addAll(iterable(b.fieldNames()));
    keys.removeIf(key -> Objects.equals(a.get(key), b.get(key)));
    return List.copyOf(keys);
  }

  /** {@code postgresql.pg_hba} of the dynamic configuration: a list of lines (or one line), null when not set. */
  public static List<String> pgHba(DynamicConfig config) {
    JsonNode node = tree(config).path("postgresql").path("pg_hba");
    if (node.isTextual()) return List.of(node.asText());
    if (!node.isArray()) return null;
    List<String> lines = new ArrayList<>();
    node.forEach(line -> {
      if (line.isValueNode() && !line.asText().isBlank()) lines.add(line.asText().trim());
    });
    return lines;
  }

  static DynamicConfig.SyncMode syncMode(JsonNode node) {
    if (node == null || node.isNull()) return DynamicConfig.SyncMode.OFF;
    if (!node.isBoolean() && "quorum".equals(node.asText().trim().toLowerCase(Locale.ROOT))) {
      return DynamicConfig.SyncMode.QUORUM;
    }
    return Values.bool(node, false) ? DynamicConfig.SyncMode.ON : DynamicConfig.SyncMode.OFF;
  }

  private static int intAtLeast(ObjectNode raw, String key, int fallback, int min, List<String> warnings) {
    long value = longOr(raw, key, fallback, warnings);
    if (value < min) {
      warnings.add(key + "=" + value + " is below the minimum " + min + ": using " + min);
      return min;
    }
    return (int) Math.min(value, Integer.MAX_VALUE);
  }

  private static long longOr(ObjectNode raw, String key, long fallback, List<String> warnings) {
    return orDefault(raw.get(key), key, fallback, warnings);
  }

  private static long orDefault(JsonNode node, String key, long fallback, List<String> warnings) {
    if (node == null || node.isNull()) return fallback;
    Long parsed = Values.integer(node);
    if (parsed == null) {
      warnings.add(key + "=" + node + " is not a number: using " + fallback);
      return fallback;
    }
    return parsed;
  }
}
