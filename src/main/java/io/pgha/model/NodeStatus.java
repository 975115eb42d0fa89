package io.pgha.model;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.List;
import java.util.Map;

/**
 * What this member knows about itself and the cluster, kept current by the HA loop from events (a postmaster exit,
 * a watch event, a role change, a status query) and read by the REST API without any query of its own.
 * Immutable: a new snapshot is published on every change.
 *
 * @param state Patroni's member state text: {@code running}, {@code starting}, {@code stopped}, {@code crashed},
 *     {@code stopping}, {@code creating replica}, {@code initializing new cluster}, {@code restarting},
 *     {@code start failed}, {@code unknown}...
 * @param role {@code primary}, {@code replica}, {@code demoted}, {@code uninitialized}, {@code promoted}
 * @param pgQueryable whether the last status query of postgres succeeded and postgres is still up; when false the
 *     {@code /patroni} body has no {@code xlog} (peers then skip this member in a race)
 * @param xlogLocation flush LSN when primary, else null
 * @param receivedLocation replica: walreceiver written/receive LSN (or replay LSN), else null
 * @param replayedLocation replica: replay LSN, else null
 * @param replicationState replica: {@code streaming} while a walreceiver streams, else null
 * @param replication rows of pg_stat_replication (primary), empty when none
 * @param leaderLockHeld this member holds the leader key and confirmed it within ttl
 * @param dcsViewPresent a view of the cluster from ZooKeeper was loaded within ttl
 * @param clusterUnlocked there is no view or no leader key
 * @param dcsLastSeenEpochSeconds epoch seconds of the last good ZooKeeper read, or null
 * @param optime the leader's last published WAL position ({@code status.optime}), 0 when unknown
 * @param nextLoopDueEpochMs when the HA loop is next due to run (epoch ms), for {@code /liveness}
 * @param ttlSeconds the ttl in force, for {@code /liveness}
 * @param tags the effective tags, as published
 * @param noloadbalance the {@code noloadbalance} tag
 * @param maximumLagOnFailoverBytes for {@code /readiness}
 * @param pendingRestartReason GUCs waiting for a restart, {@code {"guc": {"old_value": .., "new_value": ..}}}, or
 *     null when no restart is pending
 * @param configError why the cluster's {@code config} znode is being ignored, or null when it is valid
 * @param scheduledRestart the scheduled restart as published in the member key, or null
 * @param watchdogFailed Patroni's {@code watchdog_failed}: watchdog mode required and no usable device
 * @param diverged a replica whose WAL forked off the leader's timeline: it cannot follow the leader, so its data is
 *     not the cluster's and {@code /replica} says 503 (until it is rewound or cloned again)
 * @param failsafeActive DCS failsafe mode is keeping this primary running without ZooKeeper (§10.2)
 * @param failsafeEnabled {@code failsafe_mode} is on in the dynamic configuration
 * @param failsafeTopology the {@code failsafe} key as last read (member name to api_url), as Patroni's
 *     {@code dcs.failsafe}: {@code GET /failsafe} answers it; null when the key is absent or not a JSON object
 * @param quorumStandby listed in the {@code sync} key in quorum mode (§5.4): {@code /quorum} answers 200
 */
public record NodeStatus(
    String name,
    String scope,
    String version,
    String state,
    String role,
    String postmasterStartTime,
    Integer serverVersion,
    boolean pgQueryable,
    Long xlogLocation,
    Long receivedLocation,
    Long replayedLocation,
    String replayedTimestamp,
    Boolean replayPaused,
    Integer timeline,
    String replicationState,
    List<ReplicationRow> replication,
    boolean leaderLockHeld,
    boolean dcsViewPresent,
    boolean clusterUnlocked,
    boolean paused,
    Long dcsLastSeenEpochSeconds,
    String systemIdentifier,
    long optime,
    boolean syncStandby,
    long nextLoopDueEpochMs,
    int ttlSeconds,
    ObjectNode tags,
    boolean noloadbalance,
    long maximumLagOnFailoverBytes,
    ObjectNode pendingRestartReason,
    String configError,
    ObjectNode scheduledRestart,
    boolean watchdogFailed,
    boolean diverged,
    boolean failsafeActive,
    boolean failsafeEnabled,
    Map<String, String> failsafeTopology,
    boolean quorumStandby) {


  public NodeStatus(String name, String scope, String version, String state, String role, String postmasterStartTime,
      Integer serverVersion, boolean pgQueryable, Long xlogLocation, Long receivedLocation, Long replayedLocation,
      String replayedTimestamp, Boolean replayPaused, Integer timeline, String replicationState,
      List<ReplicationRow> replication, boolean leaderLockHeld, boolean dcsViewPresent, boolean clusterUnlocked,
      boolean paused, Long dcsLastSeenEpochSeconds, String systemIdentifier, long optime, boolean syncStandby,
      long nextLoopDueEpochMs, int ttlSeconds, ObjectNode tags, boolean noloadbalance,
      long maximumLagOnFailoverBytes, ObjectNode pendingRestartReason, String configError,
      ObjectNode scheduledRestart) {
    this(name, scope, version, state, role, postmasterStartTime, serverVersion, pgQueryable, xlogLocation,
        receivedLocation, replayedLocation, replayedTimestamp, replayPaused, timeline, replicationState, replication,
        leaderLockHeld, dcsViewPresent, clusterUnlocked, paused, dcsLastSeenEpochSeconds, systemIdentifier, optime,
        syncStandby, nextLoopDueEpochMs, ttlSeconds, tags, noloadbalance, maximumLagOnFailoverBytes,
        pendingRestartReason, configError, scheduledRestart, false, false, false, false, null, false);
  }

  public NodeStatus withWatchdogFailed(boolean failed) {
    return new NodeStatus(name, scope, version, state, role, postmasterStartTime, serverVersion, pgQueryable,
        xlogLocation, receivedLocation, replayedLocation, replayedTimestamp, replayPaused, timeline, replicationState,
        replication, leaderLockHeld, dcsViewPresent, clusterUnlocked, paused, dcsLastSeenEpochSeconds,
        systemIdentifier, optime, syncStandby, nextLoopDueEpochMs, ttlSeconds, tags, noloadbalance,
        maximumLagOnFailoverBytes, pendingRestartReason, configError, scheduledRestart, failed, diverged,
        failsafeActive, failsafeEnabled, failsafeTopology, quorumStandby);
  }


  public NodeStatus(String name, String scope, String version, String state, String role, String postmasterStartTime,
      Integer serverVersion, boolean pgQueryable, Long xlogLocation, Long receivedLocation, Long replayedLocation,
      String replayedTimestamp, Boolean replayPaused, Integer timeline, String replicationState,
      List<ReplicationRow> replication, boolean leaderLockHeld, boolean dcsViewPresent, boolean clusterUnlocked,
      boolean paused, Long dcsLastSeenEpochSeconds, String systemIdentifier, long optime, boolean syncStandby,
      long nextLoopDueEpochMs, int ttlSeconds, ObjectNode tags, boolean noloadbalance,
      long maximumLagOnFailoverBytes) {
    this(name, scope, version, state, role, postmasterStartTime, serverVersion, pgQueryable, xlogLocation,
        receivedLocation, replayedLocation, replayedTimestamp, replayPaused, timeline, replicationState, replication,
        leaderLockHeld, dcsViewPresent, clusterUnlocked, paused, dcsLastSeenEpochSeconds, systemIdentifier, optime,
        syncStandby, nextLoopDueEpochMs, ttlSeconds, tags, noloadbalance, maximumLagOnFailoverBytes, null, null, null);
  }

  public boolean pendingRestart() {
    return pendingRestartReason != null && !pendingRestartReason.isEmpty();
  }

  /** One row of {@code pg_stat_replication}, as {@code /patroni} lists it. */
  public record ReplicationRow(
      String usename, String applicationName, String clientAddr, String state, String syncState, int syncPriority) {}
}
