package io.pgha.ha.port;

import io.pgha.config.DynamicConfig;
import io.pgha.config.HostPort;
import io.pgha.config.PghaConfig;
import io.pgha.decision.Action;
import io.pgha.decision.DataDirState;
import io.pgha.decision.SlotPlan;
import io.pgha.decision.SyncPlanner;
import io.pgha.postgres.PgStatus;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The local postgres (its postmaster, data directory, configuration files and SQL) and the few things the loop asks
 * of other members' postgres. The adapter is the sole owner of the postmaster.
 */
public interface Postgres {
  /** Whether the postmaster we started or adopted runs (cheap; no file read). */
  boolean postmasterAlive();

  /** The postmaster's pid, 0 when none. */
  long postmasterPid();

  /** {@code pg_ctl status}'s view of start-up from postmaster.pid: "ready", "standby", "starting", ... or null. */
  CompletionStage<String> readiness();

  /** Adopts a postmaster that already runs on our data directory (agent restart); true when one was adopted. */
  CompletionStage<Boolean> adoptRunning();

  /** What pg_controldata says of the data directory (postgres stopped). */
  CompletionStage<DataDir> inspectDataDir();

  /** The status query of the running postgres (answers within 2 s or fails). */
  CompletionStage<PgStatus> status();

  /**
   * The parameters postgres runs with under this member's configuration (as last reloaded) and the dynamic one,
   * without synchronous_standby_names; also makes the dynamic configuration's pg_hba the one to write next.
   */
  Map<String, String> parameters(PghaConfig config, DynamicConfig dynamic);

  /** What this agent last wrote to postgresql.conf, or null before the first write. */
  Written lastWritten();

  /** Writes the configuration files and starts postgres; true: ready for connections, false: still starting. */
  CompletionStage<Boolean> start(Map<String, String> params, Recovery recovery);

  /** Stops postgres, escalating to immediate and SIGKILL after {@code escalateAfterMs} (0: the default). */
  CompletionStage<Void> stop(Action.StopMode mode, long escalateAfterMs);

  /** initdb a new cluster. */
  CompletionStage<Void> initdb();

  /** The roles a new cluster needs (superuser password, replication and rewind users), on the running primary. */
  CompletionStage<Void> createBootstrapRoles();

  /** {@code bootstrap.post_bootstrap}/{@code post_init}, when configured. */
  CompletionStage<Void> postBootstrapScript();

  /** Moves the data directory of a failed bootstrap aside ({@code <data_dir>.failed}) for inspection. */
  CompletionStage<Void> moveDataDirAside();

  /** pg_basebackup from {@code source} into the (emptied) data directory, marked as a standby. */
  CompletionStage<Void> basebackup(HostPort source);

  /** Single-user crash recovery, so that pg_rewind finds a cleanly shut down cluster. */
  CompletionStage<Void> crashRecovery(Map<String, String> params);

  /** pg_rewind from {@code source} ({@code dryRun}: only tell whether one is needed; fails when it is). */
  CompletionStage<Void> rewind(HostPort source, boolean dryRun);

  /** Empties the data directory. */
  CompletionStage<Void> wipeDataDir();

  /** Rewrites postgresql.conf (and the recovery settings) without reloading. */
  CompletionStage<Void> writeConfig(Map<String, String> params, Recovery recovery);

  /** {@code pg_reload_conf()}. */
  CompletionStage<Void> reload();

  /** Promotes the standby and waits until it accepts writes. */
  CompletionStage<Void> promote();

  /** {@code CHECKPOINT}. */
  CompletionStage<Void> checkpoint();

  /** The non-temporary slots of {@code pg_replication_slots}. */
  CompletionStage<List<SlotPlan.Existing>> replicationSlots();

  /** Applies {@code ops} in order ({@link SlotPlan.Copy} excepted); one failing does not stop the rest: the answer
   * has one entry per failure. */
  CompletionStage<List<SlotPlan.Failure>> applySlotOps(List<SlotPlan.Op> ops);

  /** The {@code pg_replslot/<name>/state} files of these logical slots, read from the leader's postgres. */
  CompletionStage<Map<String, byte[]>> readLogicalSlotStates(HostPort leader, List<String> names);

  /** Writes slot state files into the data directory's {@code pg_replslot} (postgres stopped). */
  CompletionStage<Void> writeSlotStates(Map<String, byte[]> states);

  /** The text of the history file of {@code timeline}, or null when postgres has none. */
  CompletionStage<String> timelineHistory(int timeline);

  /** The settings that wait for a restart, by name. */
  CompletionStage<Map<String, PendingSetting>> pendingRestart();

  /** The primary's standbys and flush position, for synchronous replication. */
  CompletionStage<SyncSnapshot> syncSnapshot();

  /** Writes a little WAL so that standbys report their position at once. */
  CompletionStage<Void> nudgeWal();

  /** The WAL position another member's postgres has received (a switchover's candidate). */
  CompletionStage<Long> receivedLsn(HostPort member);

  /** IDENTIFY_SYSTEM over a replication connection: timeline and WAL position read together. */
  CompletionStage<WalPosition> identifySystem(HostPort member);

  /** The leader's current timeline and the text of its history file ({@code ""} on timeline 1). */
  CompletionStage<LeaderTimeline> leaderTimeline(HostPort leader);

  /** Closes connections (agent shutdown); postgres keeps running unless stopped first. */
  void close();

  /** @param latestCheckpointLsn the latest checkpoint (the shutdown checkpoint after a clean stop) */
  record DataDir(DataDirState state, String sysid, boolean cleanShutdown, long latestCheckpointLsn) {}

  /**
   * Where a standby streams from; {@code host} null: a standby without upstream (or one that only restores WAL with
   * {@code restoreCommand}). The last three come from a standby cluster's {@code standby_cluster} section (§10.3).
   */
  record Recovery(String host, int port, String slotName, String restoreCommand, String archiveCleanupCommand,
      String recoveryMinApplyDelay) {
    public Recovery(String host, int port, String slotName) {
      this(host, port, slotName, null, null, null);
    }

    /** There is something to replicate from: a host to stream from or a command to restore WAL with. */
    public boolean hasSource() {
      return host != null || restoreCommand != null;
    }
  }

  /** @param pgHbaCurrent the pg_hba written is the one in force now */
  record Written(Map<String, String> params, boolean pgHbaCurrent) {}

  record PendingSetting(String oldValue, String newValue) {}

  record SyncSnapshot(List<SyncPlanner.Standby> standbys, long primaryFlushLsn, String synchronousStandbyNames) {}

  record WalPosition(int timeline, long lsn) {}

  record LeaderTimeline(int timeline, String history) {}
}
