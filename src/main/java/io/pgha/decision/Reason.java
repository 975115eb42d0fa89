package io.pgha.decision;

/**
 * Why the core decided what it did. Codes are stable (tests and metrics use them); texts keep Patroni's wording
 * where Patroni has one, so that operators grepping logs find the familiar lines.
 */
public enum Reason {
  DCS_UNREACHABLE("DCS is not accessible"),
  DCS_UNREACHABLE_READONLY("DCS is not accessible: starting postgres read-only, without upstream"),
  DCS_UNREACHABLE_DEMOTE("demoted self because DCS is not accessible and I was a leader"),
  FAILSAFE_KEEP_PRIMARY("continue to run as a leader because failsafe mode is enabled and all members are accessible"),
  FAILSAFE_NOT_LISTED("not racing for leader: the failsafe key lists other members only"),
  LOCK_UNCONFIRMED("leader key not confirmed for %d ms: waiting for a fresh view"),
  TASK_IN_PROGRESS("%s in progress"),
  LOST_LOCK_DURING_TASK("lost leader lock during %s"),
  PG_STARTING("PostgreSQL is still starting up"),
  PG_STOPPING("PostgreSQL is stopping"),
  PG_STATUS_UNKNOWN("postgres is running but did not answer the status query yet"),
  DATA_DIR_EMPTY_RELEASE("released leader key voluntarily as data dir empty and currently leader"),
  DATA_DIR_UNREADABLE("data directory is not accessible"),
  BOOTSTRAP_RACE("trying to acquire the initialize lock"),
  BOOTSTRAP_NEW_CLUSTER("trying to bootstrap a new cluster"),
  BOOTSTRAP_FINISH("initialized a new cluster"),
  BOOTSTRAP_FAILED("bootstrap failed: removing the initialize key so that another member may try"),
  BOOTSTRAP_WAIT_OTHER("waiting for leader to bootstrap"),
  BOOTSTRAP_NO_CONFIG("no bootstrap section and no leader: waiting for leader to bootstrap"),
  CLONE_FROM_LEADER("trying to bootstrap from leader '%s'"),
  CLONE_FROM_REPLICA("trying to bootstrap from replica '%s'"),
  SYSID_MISMATCH("system ID mismatch: this data directory belongs to a different cluster (%s != %s)"),
  ADOPT_DATA_DIR("adopting the existing data directory (system ID %s)"),
  RUNNING_REPLICA_UNINITIALIZED("postgres is running as a replica and the cluster has no initialize key"),
  START_PRIMARY_AFTER_CRASH("starting primary after failure"),
  START_READONLY_OWNER("starting as readonly because i had the session lock"),
  START_FAILED_RELEASE("removed leader key after trying and failing to start postgres"),
  CRASH_FAILOVER("stopped PostgreSQL to fail over after a crash"),
  PRIMARY_START_TIMEOUT("primary did not come back within primary_start_timeout: releasing the leader key"),
  PG_NOT_RUNNING_RELEASE("removed leader lock because postgres is not running as primary"),
  CRASH_RECOVERY("doing crash recovery in a single user mode"),
  REWIND("running pg_rewind from %s"),
  REWIND_WAIT_CHECKPOINT("waiting for %s to finish its checkpoint after promote before pg_rewind"),
  REWIND_CHECK("checking with pg_rewind --dry-run whether %s can be followed"),
  REINIT_AFTER_REWIND("reinitializing: this data directory cannot follow %s"),
  DIVERGED_STOP_FOR_REWIND("stopping postgres to run pg_rewind from %s: my WAL goes past the point where its timeline"
      + " forked off mine"),
  DIVERGED_REINIT("reinitializing due to diverged timelines"),
  DIVERGED_CANNOT_FOLLOW("cannot follow %s: my WAL goes past the point where its timeline forked off mine, and"
      + " neither use_pg_rewind nor remove_data_directory_on_diverged_timelines is set: set one of them (postgresql"
      + " section) or reinitialize this member"),
  DIVERGED_REWIND_FAILED("pg_rewind from %s failed and remove_data_directory_on_rewind_failure is not set: leaving"
      + " postgres stopped; set it (postgresql section) or reinitialize this member"),
  START_AS_SECONDARY("starting as a secondary"),
  START_NO_LEADER("starting as a read-only secondary: there is no leader"),
  PROBE_PEERS("checking whether I am the healthiest member"),
  ACQUIRE_LOCK("trying to acquire the leader lock: I am the healthiest member"),
  NOT_HEALTHIEST("following a different leader because i am not the healthiest node"),
  NOFAILOVER("not racing for leader: this member is tagged nofailover"),
  PROMOTE_PAUSED_SWITCHOVER("promoting: a switchover requested in pause names me and I hold the key"),
  SWITCHOVER_PAUSED_INVALID("in pause only an immediate switchover to a named member is carried out: clearing the request"),
  NOT_SYNCHRONOUS("not racing for leader: synchronous mode, and the sync key (leader %s, standbys %s) does not list me"),
  TIMELINE_BEHIND("not racing for leader: my timeline %d is behind the cluster's %d"),
  SWITCHOVER_DEMOTE("%s: demoting myself"),
  SWITCHOVER_AWAIT("Awaiting %s at %s"),
  SWITCHOVER_STALE("Found a stale %s request scheduled at %s: clearing it"),
  SWITCHOVER_NO_CANDIDATE("%s: no healthy members found, clearing the request"),
  SWITCHOVER_NOT_FOR_ME("%s request does not concern me: clearing it"),
  SWITCHOVER_PROBE("%s: checking the candidates"),
  LEADER_WITH_LOCK("no action. I am (%s), the leader with the lock"),
  PRE_PROMOTE_FAILED_RELEASE("Promotion cancelled because the pre-promote script failed: releasing the leader key"),
  PRE_PROMOTE_BACKOFF("backoff: skip leader race after pre_promote script failure and releasing the lock voluntarily"),
  PROMOTE_HAD_LOCK("promoted self to leader because I had the session lock"),
  DEMOTE_NOT_OWNER("demoting self because I do not have the lock and I was a leader"),
  FOLLOWING("no action. I am (%s), a secondary, and following a leader (%s)"),
  CHANGE_UPSTREAM("changing primary_conninfo to follow %s"),
  // §10.3 standby cluster: the lock holder is a standby leader following the remote primary, nobody promotes
  STANDBY_BOOTSTRAP("trying to bootstrap a new standby leader: clone from %s"),
  STANDBY_LEADER_WITH_LOCK("no action. I am (%s), the standby leader with the lock"),
  STANDBY_LEADER_FOLLOW_REMOTE("promoted self to a standby leader because i had the session lock: following %s"),
  STANDBY_LEADER_START("starting as a standby leader because i had the session lock"),
  STANDBY_FOLLOW_REMOTE("trying to follow a remote member because standby cluster is unhealthy"),
  STANDBY_FOLLOWING("no action. I am (%s), a secondary, and following a standby leader (%s)"),
  DEMOTE_CLUSTER("demoting to a standby cluster: fast stop, then following %s as the standby leader"),
  STANDBY_NO_PRIMARY("cannot be a real primary in a standby cluster"),
  STANDBY_SWITCHOVER("%s: the standby leader stops and gives the key to %s"),
  DEMOTE_CLUSTER_REWIND_FAILED("pg_rewind from %s failed: the former primary cannot follow the remote primary"),
  NO_LEADER_WAITING("no action. I am (%s), a secondary, and there is no leader"),
  PAUSED("PAUSE: no action. I am (%s)"),
  STALE_OWN_KEY("waiting for the leader key of my previous ZooKeeper session to expire"),
  SHUTDOWN("shutting down"),

  // Switchover#afterStop: the end of a graceful demotion (§3.8)
  SWITCHOVER_HANDED_OVER("switchover: released the leader key%s at WAL position %d"),
  SWITCHOVER_REJOIN_PAUSED("switchover: released the leader key%s at WAL position %d; paused: starting again as a"
      + " replica of %s"),
  SWITCHOVER_CANDIDATE_BEHIND("switchover: %s did not receive WAL position %d within %d ms: staying the leader"),

  // Operations: POST/DELETE /restart and POST /reinitialize (§5.9, §5.10, §3.18); the verdict's message is the reply
  RESTART_ACCEPTED("restarting postgres on request"),
  RESTART_CONDITIONS_UNMET("restart conditions are not satisfied (%s)"),
  RESTART_DONE("restarted successfully"),
  RESTART_FAILED("restart failed: %s"),
  RESTART_SCHEDULED("Restart scheduled"),
  RESTART_ALREADY_SCHEDULED("Another restart is already scheduled"),
  RESTART_SCHEDULE_INVALID("Unable to parse scheduled timestamp: %s"),
  RESTART_SCHEDULE_DELETED("scheduled restart deleted"),
  NO_RESTART_SCHEDULED("no restarts are scheduled"),
  BUSY("%s already in progress"),
  REINIT_ACCEPTED("reinitialize started"),
  REINIT_NO_LEADER("Cluster has no leader, can not reinitialize"),
  REINIT_I_AM_LEADER("I am the leader, can not reinitialize"),

  // TaskFailure#after: a task ended with an error (§3.12, §3.14)
  START_FAILED_RETRY_LATER("%s failed: %s: trying again at the next loop_wait"),
  TASK_FAILED("%s failed: %s");

  private final String text;

  Reason(String text) {
    this.text = text;
  }

  public String format(Object... args) {
    return args.length == 0 ? text : String.format(text, args);
  }
}
