package io.pgha.ha;

import io.pgha.decision.DataDirState;
import io.pgha.decision.LocalState;
import io.pgha.decision.PgRunState;
import io.pgha.decision.Task;

/** Patroni's member {@code state} and {@code role} texts (patroni-compat §2) derived from the local state. */
final class MemberState {
  private MemberState() {}

  static String state(LocalState l) {
    if (l.task() == Task.BOOTSTRAP) return "initializing new cluster";
    if (l.task() == Task.CLONE) return "creating replica";
    if (l.task() == Task.RESTART) return "restarting";
    if (l.task() == Task.REWIND || l.task() == Task.CRASH_RECOVERY) return "stopped";
    if (l.pg() == PgRunState.RUNNING) return "running";
    if (l.pg() == PgRunState.STARTING) return "starting";
    if (l.pg() == PgRunState.STOPPING) return "stopping";
    if (l.startAttemptFailed()) return "start failed";
    return l.crashed() ? "crashed" : "stopped";
  }

  /** As {@link #role(LocalState)}, but a standby cluster's key holder running as a standby is its standby leader. */
  static String role(LocalState l, boolean standbyLeader) {
    String role = role(l);
    return standbyLeader && "replica".equals(role) ? "standby_leader" : role;
  }

  /** §10.3: we hold a standby cluster's key. */
  static boolean standbyLeader(io.pgha.decision.ClusterView view, io.pgha.config.DynamicConfig cfg) {
    return view != null && view.leaderIsMe() && cfg.isStandbyCluster();
  }

  static String role(LocalState l) {
    if (l.task() == Task.PROMOTE) return "promoted";
    if (l.pg() == PgRunState.RUNNING || l.pg() == PgRunState.STARTING) {
      if (Boolean.FALSE.equals(l.inRecovery())) return "primary";
      if (Boolean.TRUE.equals(l.inRecovery())) return "replica";
    }
    if (l.dataDir() == DataDirState.EMPTY) return "uninitialized";
    return l.dataDir() == DataDirState.PRIMARY ? "demoted" : "replica";
  }
}
