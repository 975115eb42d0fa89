package io.pgha.postgres;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.config.DynamicConfig;
import io.pgha.config.PostgresqlConfig;
import io.pgha.config.Values;
import java.util.Iterator;
import java.util.Map;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The GUCs pgha manages in postgresql.conf (patroni-compat §8.1, §8.5, §8.6): protected defaults, overridden by the
 * dynamic configuration, then the local {@code postgresql.parameters} (which never carry protected GUCs), then the
 * settings that belong to this member alone.
 */
public final class PgParameters {
  private static final Logger LOG = LoggerFactory.getLogger(PgParameters.class);

  /** Protected GUCs and their defaults on PostgreSQL 13+. */
  static final Map<String, String> PROTECTED_DEFAULTS = Map.ofEntries(
      Map.entry("wal_level", "replica"),
      Map.entry("hot_standby", "on"),
      Map.entry("max_connections", "100"),
      Map.entry("max_wal_senders", "10"),
      Map.entry("wal_keep_size", "128MB"),
      Map.entry("max_prepared_transactions", "0"),
      Map.entry("max_locks_per_transaction", "64"),
      Map.entry("track_commit_timestamp", "off"),
      Map.entry("max_replication_slots", "10"),
      Map.entry("max_worker_processes", "8"),
      Map.entry("wal_log_hints", "on"));

  private PgParameters() {}

  public static Map<String, String> effective(
      PostgresqlConfig local, DynamicConfig dynamic, String scope, String unixSocketDirectory) {
    Map<String, String> params = new TreeMap<>(PROTECTED_DEFAULTS);
    putAll(params, dynamic.postgresqlParameters());
    validateProtected(params);
    putAll(params, local.parameters());
    boolean explicitWalKeepSize = dynamic.postgresqlParameters().containsKey("wal_keep_size")
        || (local.parameters() != null && local.parameters().has("wal_keep_size"));
    translateWalKeepSegments(params, explicitWalKeepSize);
    if ("hot_standby".equals(params.get("wal_level"))) params.put("wal_level", "replica");
    params.put("hot_standby", "on");
    params.put("cluster_name", scope);
    params.put("listen_addresses", local.listenAddresses());
    params.put("port", Integer.toString(local.port()));
    params.putIfAbsent("unix_socket_directories", unixSocketDirectory);
    return params;
  }

  /** §8.6: an invalid value of a protected GUC would stop postgres from starting: warn and use the default. */
  static void validateProtected(Map<String, String> params) {
    for (String name : PROTECTED_DEFAULTS.keySet()) {
      String value = params.get(name);
      if (value == null || valid(name, value.trim())) continue;
      LOG.warn("{}={} is not valid: using {}", name, value, PROTECTED_DEFAULTS.get(name));
      params.put(name, PROTECTED_DEFAULTS.get(name));
    }
  }

  private static boolean valid(String name, String value) {
    return switch (name) {
      case "wal_level" -> value.matches("(?i)hot_standby|replica|logical");
      case "hot_standby" -> Values.bool(com.fasterxml.jackson.databind.node.TextNode.valueOf(value), false);
      case "track_commit_timestamp", "wal_log_hints" -> value.matches("(?i)on|off|true|false|yes|no|1|0");
      case "max_connections" -> atLeast(value, 25);
      case "max_wal_senders" -> atLeast(value, 3);
      case "max_prepared_transactions" -> atLeast(value, 0);
      case "max_locks_per_transaction" -> atLeast(value, 32);
      case "max_replication_slots" -> atLeast(value, 4);
      case "max_worker_processes" -> atLeast(value, 2);
      case "wal_keep_size" -> megabytes(value) >= 16;
      default -> true;
    };
  }

  private static boolean atLeast(String value, long min) {
    try {
      return Long.parseLong(value) >= min;
    } catch (NumberFormatException e) {
      return false;
    }
  }

  /** {@code 128MB}, {@code 1GB}, {@code 2048kB}, or a bare number of megabytes; -1 when not a size. */
  static long megabytes(String value) {
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(\\d+)\\s*(kB|MB|GB|TB)?").matcher(value);
    if (!m.matches()) return -1;
    long n = Long.parseLong(m.group(1));
    String unit = m.group(2) == null ? "MB" : m.group(2);
    return switch (unit) {
      case "kB" -> n / 1024;
      case "GB" -> n * 1024;
      case "TB" -> n * 1024 * 1024;
      default -> n;
    };
  }

  private static void putAll(Map<String, String> params, Map<String, String> gucs) {
    gucs.forEach((name, value) -> {
      if (value == null) params.remove(name);
      else params.put(name, value);
    });
  }

  private static void putAll(Map<String, String> params, JsonNode tree) {
    if (tree == null) return;
    for (Iterator<Map.Entry<String, JsonNode>> it = tree.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      String value = Values.gucText(e.getValue());
      if (value == null) params.remove(e.getKey());
      else params.put(e.getKey(), value);
    }
  }

  /** wal_keep_segments is gone since PostgreSQL 13: translate it (16 MB segments) rather than fail to start. */
  private static void translateWalKeepSegments(Map<String, String> params, boolean explicitWalKeepSize) {
    String segments = params.remove("wal_keep_segments");
    if (segments == null) return;
    try {
      long mb = Long.parseLong(segments.trim()) * 16;
      if (explicitWalKeepSize) {
        LOG.warn("wal_keep_segments={} ignored: wal_keep_size is set (PostgreSQL 13+)", segments);
      } else {
        params.put("wal_keep_size", mb + "MB");
        LOG.warn("wal_keep_segments={} translated to wal_keep_size={}MB (PostgreSQL 13+)", segments, mb);
      }
    } catch (NumberFormatException e) {
      LOG.warn("wal_keep_segments={} is not a number: ignored", segments);
    }
  }
}
