package io.pgha.metrics;

import com.fasterxml.jackson.databind.JsonNode;
import io.pgha.model.NodeStatus;
import java.math.BigDecimal;
import java.time.DateTimeException;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The Patroni block of {@code GET /metrics} (patroni-compat §6): every metric Patroni 4.x writes, with its name, type,
 * {@code # HELP} text and meaning, so that existing dashboards and alerts keep working. Values come from the same
 * {@link NodeStatus} snapshot as {@code /patroni}; nothing is queried.
 *
 * <p>Differences from Patroni, all deliberate:
 * <ul>
 *   <li>Labels are 4.x's {@code {scope="…",name="…"}} (3.0.2 had {@code scope} only), escaped as the text format
 *       requires (Patroni does not escape; identical for ordinary names).
 *   <li>{@code patroni_master} (3.x, removed in 4.0) is written beside {@code patroni_primary} with the same value,
 *       so that 3.x dashboards and alert rules work unchanged.
 *   <li>Patroni writes {@code patroni_postgres_server_version {scope=…}} with a stray space before the labels; pgha
 *       does not. Prometheus parses both to the same series.
 *   <li>{@code patroni_postgres_timeline} is a gauge, as in Patroni ≥ 4.1.4 (a counter before).
 *   <li>Metrics Patroni added after 4.0 are written too: {@code patroni_postgres_state} (4.1, with its
 *       {@code # Values:} comment line) and {@code patroni_failsafe_mode_enabled}, {@code patroni_failsafe_member},
 *       {@code patroni_failover_priority} (HEAD).
 * </ul>
 */
public final class PatroniMetrics {
  /** Patroni's {@code PostgresqlState} texts; the index is the number {@code patroni_postgres_state} reports. */
  static final List<String> STATE_TEXTS = List.of(
      "initializing new cluster", "initdb failed", "running custom bootstrap script", "custom bootstrap failed",
      "creating replica", "running", "starting", "starting after custom bootstrap", "start failed", "restarting",
      "restart failed", "stopping", "stopped", "stop failed", "crashed");

  /** Patroni's {@code PostgresqlState} member names, lower case, as the {@code # Values:} line lists them. */
  static final List<String> STATE_NAMES = List.of(
      "initdb", "initdb_failed", "custom_bootstrap", "custom_bootstrap_failed", "creating_replica", "running",
      "starting", "bootstrap_starting", "start_failed", "restarting", "restart_failed", "stopping", "stopped",
      "stop_failed", "crashed");

  /** The comment line between {@code patroni_postgres_state}'s {@code # HELP} and {@code # TYPE}. */
  public static final String STATE_VALUES_COMMENT = stateValuesComment();

  private static final String RUNNING = "running";
  private static final String UNKNOWN = "unknown";
  private static final String REPLICA = "replica";
  private static final String STANDBY_LEADER = "standby_leader";
  private static final int MIN_VERSION_WITH_REPLICATION_STATE = 90600;

  /** PostgreSQL's {@code timestamptz::text} (ISO DateStyle) and Patroni's {@code isoformat()}. */
  private static final Pattern TIMESTAMP = Pattern.compile(
      "(\\d{4,})-(\\d{2})-(\\d{2})[ T](\\d{2}):(\\d{2}):(\\d{2})(?:\\.(\\d{1,9}))?"
          + "\\s*(?:(Z)|([+-])(\\d{2})(?::?(\\d{2}))?(?::?(\\d{2}))?)?");

  private PatroniMetrics() {}

  /** Appends the Patroni block, one {@code # HELP}/{@code # TYPE} pair per metric, each line ending in a newline. */
  public static void render(NodeStatus s, StringBuilder out) {
    String labels = labels(s.scope(), s.name());
    String state = effectiveState(s);
    boolean queryable = s.pgQueryable();
    boolean primary = isPrimaryRole(s.role());
    boolean hasReplicaXlog = queryable && !primary; // /patroni's xlog.received_location etc.
    int serverVersion = queryable && s.serverVersion() != null ? s.serverVersion() : 0;

    gauge(out, "patroni_version", "Patroni semver without periods.", labels, paddedVersion(s.version()));
    gauge(out, "patroni_postgres_running", "Value is 1 if Postgres is running, 0 otherwise.", labels,
        flag(RUNNING.equals(state)));
    gauge(out, "patroni_postmaster_start_time", "Epoch seconds since Postgres started.", labels,
        queryable ? epochSeconds(s.postmasterStartTime()) : "0");
    gauge(out, "patroni_master", "Value is 1 if this node is the leader, 0 otherwise.", labels, flag(primary));
    gauge(out, "patroni_primary", "Value is 1 if this node is the leader, 0 otherwise.", labels, flag(primary));
    counter(out, "patroni_xlog_location",
        "Current location of the Postgres transaction log, 0 if this node is not the leader.", labels,
        number(queryable && primary ? s.xlogLocation() : null));
    gauge(out, "patroni_standby_leader", "Value is 1 if this node is the standby_leader, 0 otherwise.", labels,
        flag(STANDBY_LEADER.equals(s.role())));
    gauge(out, "patroni_replica", "Value is 1 if this node is a replica, 0 otherwise.", labels,
        flag(REPLICA.equals(s.role())));
    gauge(out, "patroni_sync_standby", "Value is 1 if this node is a sync standby, 0 otherwise.", labels,
        flag(s.syncStandby() && queryable && REPLICA.equals(s.role())));
    gauge(out, "patroni_quorum_standby", "Value is 1 if this node is a quorum standby, 0 otherwise.", labels,
        flag(s.quorumStandby() && queryable && REPLICA.equals(s.role())));
    counter(out, "patroni_xlog_received_location",
        "Current location of the received Postgres transaction log, 0 if this node is not a replica.", labels,
        number(hasReplicaXlog ? s.receivedLocation() : null));
    counter(out, "patroni_xlog_replayed_location",
        "Current location of the replayed Postgres transaction log, 0 if this node is not a replica.", labels,
        number(hasReplicaXlog ? s.replayedLocation() : null));
    gauge(out, "patroni_xlog_replayed_timestamp",
        "Current timestamp of the replayed Postgres transaction log, 0 if null.", labels,
        hasReplicaXlog ? epochSeconds(s.replayedTimestamp()) : "0");
    gauge(out, "patroni_xlog_paused", "Value is 1 if the Postgres xlog is paused, 0 otherwise.", labels,
        flag(hasReplicaXlog && Boolean.TRUE.equals(s.replayPaused())));
    if (serverVersion >= MIN_VERSION_WITH_REPLICATION_STATE) {
      gauge(out, "patroni_postgres_streaming", "Value is 1 if Postgres is streaming, 0 otherwise.", labels,
          flag("streaming".equals(s.replicationState())));
      gauge(out, "patroni_postgres_in_archive_recovery",
          "Value is 1 if Postgres is replicating from archive, 0 otherwise.", labels,
          flag("in archive recovery".equals(s.replicationState())));
    }
    gauge(out, "patroni_postgres_server_version", "Version of Postgres (if running), 0 otherwise.", labels,
        Integer.toString(serverVersion));
    gauge(out, "patroni_cluster_unlocked", "Value is 1 if the cluster is unlocked, 0 if locked.", labels,
        flag(s.clusterUnlocked()));
    gauge(out, "patroni_failsafe_mode_is_active", "Value is 1 if failsafe mode is active, 0 if inactive.", labels,
        flag(s.failsafeActive()));
    gauge(out, "patroni_failsafe_mode_enabled", "Value is 1 if failsafe_mode is enabled, 0 otherwise.", labels,
        flag(s.failsafeEnabled()));
    gauge(out, "patroni_failsafe_member", "Value is 1 if this node is a member of failsafe, 0 otherwise.", labels,
        flag(s.failsafeTopology() != null && s.failsafeTopology().containsKey(s.name())));
    gauge(out, "patroni_postgres_timeline", "Postgres timeline of this node (if running), 0 otherwise.", labels,
        number(queryable && s.timeline() != null ? s.timeline().longValue() : null));
    gauge(out, "patroni_dcs_last_seen", "Epoch timestamp when DCS was last contacted successfully by Patroni.",
        labels, number(s.dcsLastSeenEpochSeconds()));
    gauge(out, "patroni_pending_restart", "Value is 1 if the node needs a restart, 0 otherwise.", labels,
        flag(s.pendingRestart()));
    gauge(out, "patroni_is_paused", "Value is 1 if auto failover is disabled, 0 otherwise.", labels,
        flag(s.paused()));
    out.append("# HELP patroni_postgres_state Numeric representation of Postgres state.\n")
        .append(STATE_VALUES_COMMENT).append('\n')
        .append("# TYPE patroni_postgres_state gauge\n")
        .append("patroni_postgres_state").append(labels).append(' ').append(postgresState(state)).append('\n');
    gauge(out, "patroni_failover_priority",
        "Failover priority of this node: 0 if it never becomes leader automatically (nofailover).", labels,
        Integer.toString(failoverPriority(s.tags())));
  }

  /** {@code 4.0.0} ⇒ {@code 040000}: each part zero-padded to two digits, as Patroni's {@code zfill(2)}. */
  static String paddedVersion(String version) {
    if (version == null || version.isBlank()) {
      return "0";
    }
    StringBuilder padded = new StringBuilder();
    for (String part : version.trim().split("\\.")) {
      int digits = 0;
      while (digits < part.length() && Character.isDigit(part.charAt(digits))) {
        digits++;
      }
      String number = part.substring(0, digits);
      padded.append(number.length() >= 2 ? number : "00".substring(number.length()) + number);
    }
    return padded.length() == 0 ? "0" : padded.toString();
  }

  /** The number of a Patroni state text, -1 for {@code unknown} or anything else Patroni would not number. */
  static int postgresState(String stateText) {
    return STATE_TEXTS.indexOf(stateText);
  }

  /**
   * A timestamp as Patroni prints {@code (ts - epoch).total_seconds()}: Python's float repr ({@code 1795482737.07369},
   * {@code 1795482737.0}), or {@code 0} when there is none or it cannot be read. At microsecond resolution and
   * before the year 2242 the shortest repr of that float is the exact decimal, so it is written from the digits.
   */
  static String epochSeconds(String timestamp) {
    if (timestamp == null) {
      return "0";
    }
    Matcher m = TIMESTAMP.matcher(timestamp.trim());
    if (!m.matches()) {
      return "0";
    }
    try {
      LocalDateTime local = LocalDateTime.of(Integer.parseInt(m.group(1)), Integer.parseInt(m.group(2)),
          Integer.parseInt(m.group(3)), Integer.parseInt(m.group(4)), Integer.parseInt(m.group(5)),
          Integer.parseInt(m.group(6)));
      ZoneOffset offset = ZoneOffset.UTC;
      if (m.group(9) != null) {
        int sign = "-".equals(m.group(9)) ? -1 : 1;
        offset = ZoneOffset.ofHoursMinutesSeconds(sign * Integer.parseInt(m.group(10)),
            sign * (m.group(11) == null ? 0 : Integer.parseInt(m.group(11))),
            sign * (m.group(12) == null ? 0 : Integer.parseInt(m.group(12))));
      }
      long seconds = local.toEpochSecond(offset);
      String fraction = m.group(7) == null ? "" : m.group(7);
      String micros = (fraction + "000000").substring(0, 6); // Python's datetime keeps microseconds
      BigDecimal value = BigDecimal.valueOf(seconds).add(new BigDecimal("0." + micros));
      String text = value.stripTrailingZeros().toPlainString();
      return text.indexOf('.') < 0 ? text + ".0" : text;
    } catch (DateTimeException | NumberFormatException e) {
      return "0";
    }
  }

  /** {@code tags.nofailover} ⇒ 0, else {@code tags.failover_priority}, default 1 (patroni-compat §9.2). */
  static int failoverPriority(JsonNode tags) {
    if (tags == null) {
      return 1;
    }
    JsonNode nofailover = tags.get("nofailover");
    if (nofailover != null && nofailover.asBoolean(false)) {
      return 0;
    }
    JsonNode priority = tags.get("failover_priority");
    if (priority == null || priority.isNull()) {
      return 1;
    }
    return priority.isNumber() ? priority.intValue() : priority.asInt(1); // asInt parses "2", else 1
  }

  static String labels(String scope, String name) {
    return "{scope=\"" + escape(scope) + "\",name=\"" + escape(name) + "\"}";
  }

  /** Label value escaping of the text exposition format. */
  private static String escape(String value) {
    if (value == null) {
      return "";
    }
    return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
  }

  /** The state as {@code /patroni} shows it: {@code unknown} when postgres should run but did not answer. */
  private static String effectiveState(NodeStatus s) {
    return !s.pgQueryable() && RUNNING.equals(s.state()) ? UNKNOWN : s.state();
  }

  private static boolean isPrimaryRole(String role) {
    return "primary".equals(role) || "master".equals(role);
  }

  private static String flag(boolean value) {
    return value ? "1" : "0";
  }

  private static String number(Long value) {
    return value == null ? "0" : Long.toString(value);
  }

  private static void gauge(StringBuilder out, String name, String help, String labels, String value) {
    metric(out, name, help, "gauge", labels, value);
  }

  private static void counter(StringBuilder out, String name, String help, String labels, String value) {
    metric(out, name, help, "counter", labels, value);
  }

  private static void metric(StringBuilder out, String name, String help, String type, String labels, String value) {
    out.append("# HELP ").append(name).append(' ').append(help).append('\n')
        .append("# TYPE ").append(name).append(' ').append(type).append('\n')
        .append(name).append(labels).append(' ').append(value).append('\n');
  }

  private static String stateValuesComment() {
    StringBuilder line = new StringBuilder("# Values: ");
    for (int i = 0; i < STATE_NAMES.size(); i++) {
      line.append(i == 0 ? "" : ", ").append(i).append('=').append(STATE_NAMES.get(i));
    }
    return line.toString();
  }
}
