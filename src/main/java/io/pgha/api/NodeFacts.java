package io.pgha.api;

import io.pgha.model.NodeStatus;

/**
 * Facts the REST API derives from a {@link NodeStatus} snapshot, kept in one place so the health checks, the probes
 * and the status body agree on them.
 */
final class NodeFacts {
  static final String RUNNING = "running";
  static final String UNKNOWN = "unknown";
  static final String REPLICA = "replica";
  static final String STANDBY_LEADER = "standby_leader";

  private NodeFacts() {}

  /** {@code primary} (4.x) or {@code master} (3.x) */
  static boolean isPrimaryRole(String role) {
    return "primary".equals(role) || "master".equals(role);
  }

  /**
   * The state as {@code /patroni} shows it: Patroni reports {@code unknown} when postgres should be running but its
   * status query failed.
   */
  static String effectiveState(NodeStatus s) {
    return !s.pgQueryable() && RUNNING.equals(s.state()) ? UNKNOWN : s.state();
  }

  /** Postgres is running and answered its last status query. */
  static boolean pgUp(NodeStatus s) {
    return s.pgQueryable() && RUNNING.equals(s.state());
  }

  /**
   * NodeStatus has no standby-cluster flag; in a standby cluster the lock holder reports the role
   * {@code standby_leader} (§5.4), and that is the only member for which the distinction matters.
   */
  static boolean isStandbyCluster(NodeStatus s) {
    return STANDBY_LEADER.equals(s.role());
  }

  /** The {@code sync_standby} flag of the status body: a queryable replica listed in the {@code sync} key. */
  static boolean isSyncStandby(NodeStatus s) {
    return s.syncStandby() && s.pgQueryable() && REPLICA.equals(s.role());
  }

  /** The {@code quorum_standby} flag (quorum mode, §4.7): a queryable replica listed among the sync key's voters. */
  static boolean isQuorumStandby(NodeStatus s) {
    return s.quorumStandby() && s.pgQueryable() && REPLICA.equals(s.role());
  }
}
