package io.pgha.ha;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.Version;
import io.pgha.config.DynamicConfig;
import io.pgha.config.PghaConfig;
import io.pgha.dcs.DcsHealth;
import io.pgha.decision.ClusterView;
import io.pgha.decision.Failsafe;
import io.pgha.decision.LocalState;
import io.pgha.decision.PgRunState;
import io.pgha.model.NodeStatus;
import io.pgha.postgres.PgStatus;
import java.util.List;
import java.util.Map;

/**
 * What this member says about itself: the {@code members/<name>} JSON (patroni-compat §2) and the {@link NodeStatus}
 * behind the REST API. Pure functions of the HA loop's state.
 */
final class SelfReport {
  private static final ObjectMapper JSON = new ObjectMapper();

  private SelfReport() {}

  static String memberJson(
      PghaConfig config, LocalState local, PgStatus pgStatus, boolean checkpointPending, boolean paused,
      Map<String, Object> scheduledRestart, ObjectNode pendingRestartReason, boolean leavingSync,
      boolean standbyLeader) {
    ObjectNode m = JSON.createObjectNode();
    m.put("conn_url", config.postgresql().connUrl());
    m.put("api_url", config.restapi().apiUrl());
    m.put("state", MemberState.state(local));
    m.put("role", MemberState.role(local, standbyLeader));
    m.put("version", Version.PATRONI_COMPATIBLE);
    if (pgStatus != null && local.pg() == PgRunState.RUNNING) {
      m.put("xlog_location", pgStatus.xlogLocation());
      if (pgStatus.inRecovery()) {
        m.put("receive_lsn", pgStatus.receiveLsn());
        m.put("replay_lsn", pgStatus.replayLsn());
        if ("streaming".equals(pgStatus.walReceiverStatus())) m.put("replication_state", "streaming");
      }
    }
    if (local.timeline() > 0) m.put("timeline", local.timeline());
    if (checkpointPending) m.put("checkpoint_after_promote", false);
    ObjectNode tags = config.tags().published() == null ? JSON.createObjectNode() : config.tags().published().deepCopy();
    if (leavingSync) {
      // §4.6: how a synchronous standby about to stop asks the primary to drop it from the sync set
      tags.put("nosync", true);
      tags.put("sync_priority", 0);
    }
    if (!tags.isEmpty()) m.set("tags", tags);
    if (pendingRestartReason != null && !pendingRestartReason.isEmpty()) {
      m.put("pending_restart", true);
      m.set("pending_restart_reason", pendingRestartReason.deepCopy());
    }
    if (paused) m.put("pause", true);
    if (scheduledRestart != null) m.set("scheduled_restart", (ObjectNode) JSON.valueToTree(scheduledRestart));
    return m.toString();
  }

  /**
   * @param postmasterAlive the postmaster process exists right now: a status query that succeeded a moment ago does
   *     not make a dead postgres queryable
   */
  static NodeStatus nodeStatus(PghaConfig config, LocalState local, PgStatus pgStatus, boolean postmasterAlive,
      ClusterView view, DcsHealth health, DynamicConfig dynamic, long nextLoopDueEpochMs, long nowMonotonicMs,
      ObjectNode pendingRestartReason, String configError, Map<String, Object> scheduledRestart) {
    boolean queryable = pgStatus != null && local.pg() == PgRunState.RUNNING && postmasterAlive;
    boolean replica = queryable && pgStatus.inRecovery();
    long ttlMs = dynamic.ttlSeconds() * 1000L;
    boolean lockHeld = view != null && view.leaderIsMe()
        && nowMonotonicMs - local.lockConfirmedAtMs() < Math.min(ttlMs, local.sessionTtlMs());
    return new NodeStatus(config.name(), config.scope(), Version.PATRONI_COMPATIBLE,
        MemberState.state(local), MemberState.role(local, MemberState.standbyLeader(view, dynamic)),
        pgStatus == null ? null : pgStatus.postmasterStartTime(),
        pgStatus == null ? null : pgStatus.serverVersion(),
        queryable,
        queryable && !replica ? pgStatus.flushLsn() : null,
        replica ? pgStatus.receiveLsn() : null,
        replica ? pgStatus.replayLsn() : null,
        replica ? pgStatus.replayTimestamp() : null,
        replica ? pgStatus.replayPaused() : null,
        local.timeline() > 0 ? local.timeline() : null,
        replica && "streaming".equals(pgStatus.walReceiverStatus()) ? "streaming" : null,
        queryable ? pgStatus.replication() : List.of(),
        lockHeld,
        view != null && health != null && health.connected(),
        view == null || !view.hasLeader(),
        dynamic.pause(),
        health == null || health.lastGoodReadEpochMs() == 0 ? null : health.lastGoodReadEpochMs() / 1000,
        local.sysid(),
        view == null ? 0 : view.optime(),
        view != null && view.sync().standbys().contains(config.name())
            && dynamic.synchronousMode() != DynamicConfig.SyncMode.QUORUM,
        nextLoopDueEpochMs,
        dynamic.ttlSeconds(),
        config.tags().published(),
        config.tags().noloadbalance(),
        dynamic.maximumLagOnFailoverBytes(),
        pendingRestartReason,
        configError,
        scheduledRestart == null ? null : (ObjectNode) JSON.valueToTree(scheduledRestart),
        false,
        replica && local.diverged(),
        Failsafe.active(local, dynamic, nowMonotonicMs),
        dynamic.failsafeMode(),
        view == null ? null : view.failsafe(),
        // §5.4: listed in the sync key in quorum mode
        view != null && view.sync().standbys().contains(config.name())
            && dynamic.synchronousMode() == DynamicConfig.SyncMode.QUORUM);
  }
}
