package io.pgha.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.model.NodeStatus;
import java.io.UncheckedIOException;

/**
 * The body of {@code GET /patroni} and of the health checks (§5.4), keys in the order Patroni writes them
 * ({@code api.py: get_postgresql_status} then {@code _write_status_response}). Role names are 4.x ({@code primary},
 * not 3.x {@code master}); {@code patroni.name} is there as since 3.2.
 */
public final class StatusJson {
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private StatusJson() {}

  /** @return compact UTF-8 JSON */
  public static byte[] render(NodeStatus s) {
    try {
      return MAPPER.writeValueAsBytes(toJson(s));
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e); // a tree of plain nodes always serializes
    }
  }

  public static ObjectNode toJson(NodeStatus s) {
    ObjectNode json = MAPPER.createObjectNode();
    json.put("state", NodeFacts.effectiveState(s));
    if (s.pgQueryable()) {
      json.put("postmaster_start_time", s.postmasterStartTime());
      json.put("role", s.role());
      json.put("server_version", s.serverVersion());
      ObjectNode xlog = json.putObject("xlog");
      if (NodeFacts.isPrimaryRole(s.role())) {
        xlog.put("location", s.xlogLocation());
      } else {
        xlog.put("received_location", s.receivedLocation());
        xlog.put("replayed_location", s.replayedLocation());
        xlog.put("replayed_timestamp", s.replayedTimestamp());
        xlog.put("paused", Boolean.TRUE.equals(s.replayPaused()));
      }
      if (NodeFacts.isSyncStandby(s)) {
        json.put("sync_standby", true);
      }
      if (NodeFacts.isQuorumStandby(s)) {
        json.put("quorum_standby", true);
      }
      json.put("timeline", s.timeline());
      if (s.replicationState() != null) {
        json.put("replication_state", s.replicationState());
      }
      if (s.replication() != null && !s.replication().isEmpty()) {
        var rows = json.putArray("replication");
        for (NodeStatus.ReplicationRow r : s.replication()) {
          rows.addObject()
              .put("usename", r.usename())
              .put("application_name", r.applicationName())
              .put("client_addr", r.clientAddr())
              .put("state", r.state())
              .put("sync_state", r.syncState())
              .put("sync_priority", r.syncPriority());
        }
      }
    } else {
      // postgres down or its status query failed: no xlog, so peers count this member out of a race
      json.put("role", s.role());
    }
    if (s.scheduledRestart() != null) {
      json.set("scheduled_restart", s.scheduledRestart().deepCopy());
    }
    if (s.pendingRestart()) {
      json.put("pending_restart", true);
      json.set("pending_restart_reason", s.pendingRestartReason().deepCopy());
    }
    if (s.paused()) {
      json.put("pause", true);
    }
    if (s.configError() != null) {
      json.put("config_error", s.configError()); // pgha's own: Patroni has no place to say it
    }
    if (s.clusterUnlocked()) {
      json.put("cluster_unlocked", true);
    }
    if (s.failsafeActive()) json.put("failsafe_mode_is_active", true);
    if (s.watchdogFailed()) {
      json.put("watchdog_failed", true);
    }
    json.put("dcs_last_seen", s.dcsLastSeenEpochSeconds() == null ? 0L : s.dcsLastSeenEpochSeconds());
    if (s.tags() != null && !s.tags().isEmpty()) {
      json.set("tags", s.tags().deepCopy());
    }
    if (s.systemIdentifier() != null) {
      json.put("database_system_identifier", s.systemIdentifier());
    }
    json.putObject("patroni")
        .put("version", s.version())
        .put("scope", s.scope())
        .put("name", s.name());
    return json;
  }
}
