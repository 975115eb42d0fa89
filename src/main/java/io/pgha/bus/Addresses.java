package io.pgha.bus;

/**
 * Event-bus addresses, all local to one agent's Vert.x instance. Events are published in the past tense; commands
 * are request/reply in the imperative.
 */
public final class Addresses {
  private Addresses() {}

  /** Event: a new {@code ClusterView} snapshot from the ZooKeeper watcher. */
  public static final String DCS_CLUSTER_CHANGED = "pgha.dcs.cluster-changed";
  /** Event: the ZooKeeper connection state changed ({@code DcsHealth}). */
  public static final String DCS_HEALTH_CHANGED = "pgha.dcs.health-changed";
  /** Event: the postmaster started, exited or was adopted ({@code PostmasterEvent}). */
  public static final String PG_POSTMASTER_CHANGED = "pgha.pg.postmaster-changed";
  /** Event: the HA loop published a new {@link io.pgha.model.NodeStatus}. */
  public static final String HA_STATUS_CHANGED = "pgha.ha.status-changed";
  /** Event: the HA loop took a decision ({@code DecisionRecord}). */
  public static final String HA_DECIDED = "pgha.ha.decided";
  /** Command to the HA loop: wake up and run a cycle now (a local request such as a REST call). */
  public static final String HA_WAKE = "pgha.ha.wake";
  /**
   * Command to the HA loop: restart postgres now. Body: a JsonObject with the optional conditions of
   * {@code POST /restart} ({@code role}, {@code postgres_version}, {@code restart_pending}, {@code timeout});
   * reply: {@code {"status": <http code>, "message": <text>}}.
   */
  public static final String HA_RESTART = "pgha.ha.restart";
  /** Command to the HA loop: reinitialize this member. Body {@code {force, from_leader}}; reply as for restart. */
  public static final String HA_REINITIALIZE = "pgha.ha.reinitialize";
  /** Command to the HA loop: reload the local configuration (SIGHUP). Reply as for restart. */
  public static final String HA_RELOAD = "pgha.ha.reload";
  /** {@code POST /failsafe} (§10.2): {@code {name, conn_url, api_url}}; reply {@code {status, message, lsn}}. */
  public static final String HA_FAILSAFE = "pgha.ha.failsafe";
}
