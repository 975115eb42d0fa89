package io.pgha.decision;

/** What the HA loop must do after a decision. The core only names the action; verticles carry it out. */
public sealed interface Action {

  /** Nothing to do this cycle. */
  record None() implements Action {}

  /** Create {@code initialize} = "" to win the right to run initdb. */
  record RaceInitialize() implements Action {}

  /** initdb, write the config files, start as primary, create the roles; then {@link FinishBootstrap}. */
  record Bootstrap() implements Action {}

  /**
   * §10.3: the first member of a standby cluster: pg_basebackup from the remote primary {@code remote} (a
   * {@link io.pgha.config.StandbyCluster#upstream()}), then start as its standby; then {@link FinishBootstrap}.
   */
  record BootstrapStandbyLeader(String remote) implements Action {}

  /** Publish the bootstrapped cluster: {@code initialize} = sysid, {@code config}, then take the leader key. */
  record FinishBootstrap(String sysid) implements Action {}

  /** Delete {@code initialize} after a failed bootstrap so that another member may try. */
  record CancelBootstrap() implements Action {}

  /** Adopt an existing data directory: write {@code initialize} = its system id. */
  record WriteInitialize(String sysid) implements Action {}

  /** pg_basebackup from a member, then start as a replica of the leader. */
  record Clone(String source) implements Action {}

  /** Query every peer's {@code /patroni} for the leader race. */
  record ProbePeers() implements Action {}

  /** Create the ephemeral {@code leader} znode. */
  record AcquireLeader() implements Action {}

  /** Delete our {@code leader} znode. */
  record ReleaseLeader() implements Action {}

  /** Promote the running standby to primary. */
  record Promote() implements Action {}

  /** Start postgres as a primary (we hold the key). */
  record StartPrimary() implements Action {}

  /** Start postgres as a standby of {@code upstream} (null: read-only, no upstream). */
  record StartReplica(String upstream) implements Action {}

  /** Point the running standby at another upstream (rewrite recovery settings, reload). */
  record Follow(String upstream) implements Action {}

  /**
   * Stop postgres in {@code mode}; {@code releaseKey} deletes our leader znode after the stop. A stop that has not
   * finished after {@code escalateAfterMs} is escalated to immediate, then to SIGKILL (0: the supervisor's default).
   */
  record Stop(StopMode mode, boolean releaseKey, long escalateAfterMs) implements Action {}

  /**
   * §3.8 graceful demotion for a switchover: CHECKPOINT, fast stop, publish the final WAL position, release the key
   * (the named candidate, or the healthiest member, then wins the race).
   */
  record DemoteGraceful(String candidate) implements Action {}

  /**
   * After the stop of a graceful demotion ({@link Switchover#afterStop}): the candidate has received our final WAL
   * position, so write it ({@code status.optime} = {@code finalLsn}) and release the leader key; with
   * {@code rejoinAsReplica} (a switchover in pause, where nothing else starts postgres) start again as a replica of
   * {@code candidate}.
   */
  record HandOver(String candidate, long finalLsn, boolean rejoinAsReplica) implements Action {}

  /**
   * After the stop of a graceful demotion ({@link Switchover#afterStop}): the candidate did not receive our final WAL
   * position in time, so keep the key, start again as primary and clear the request ({@code failover} = {}).
   */
  record StayLeader(String candidate, long finalLsn) implements Action {}

  /** Write {@code failover} = {} (the request is done, stale, or cannot be carried out). */
  record ClearFailover(String why) implements Action {}

  /** Single-user crash recovery so that pg_rewind finds a cleanly shut down cluster. */
  record CrashRecovery() implements Action {}

  /** pg_rewind from {@code source} (a dry run when {@code dryRunOnly}: use_pg_rewind is off). */
  record Rewind(String source, boolean dryRunOnly) implements Action {}

  /** Remove the data directory so that the next cycle clones afresh. */
  record WipeDataDir(String why) implements Action {}

  /** The configuration is unusable for this member: stop the agent (postgres is left as it is). */
  record Fatal(String why) implements Action {}

  enum StopMode { SMART, FAST, IMMEDIATE }
}
