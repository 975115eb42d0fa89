package io.pgha.config;

import java.util.List;

/**
 * The dynamic configuration's {@code standby_cluster} section (patroni-compat §10.3): the lock holder is a standby
 * leader replicating from the remote primary at {@code host}:{@code port} (or restoring with {@code restoreCommand});
 * the other members cascade from it. Active, as in Patroni, when {@code host}, {@code port} or
 * {@code restore_command} is set. Free of Jackson ({@link StandbyClusterJson} parses it) so the core may hold it.
 *
 * @param port 0 when not set (5432 is used to connect)
 * @param createReplicaMethods as given; only {@code basebackup} is carried out
 */
public record StandbyCluster(
    String host,
    int port,
    String primarySlotName,
    List<String> createReplicaMethods,
    String restoreCommand,
    String archiveCleanupCommand,
    String recoveryMinApplyDelay) {

  /** The prefix of {@link #upstream()}: no member name starts with it (a space cannot be in a znode name here). */
  public static final String REMOTE_PREFIX = "remote member ";

  public StandbyCluster {
    createReplicaMethods = List.copyOf(createReplicaMethods);
  }

  /** The port to connect to. */
  public int effectivePort() {
    return port > 0 ? port : 5432;
  }

  /**
   * The name the HA core and loop use for the remote primary where they name a member to follow or clone from. It
   * carries the address, so that a changed {@code host}/{@code port} is a different upstream and the standby leader
   * re-points.
   */
  public String upstream() {
    return REMOTE_PREFIX + (host == null ? "" : host) + ":" + effectivePort();
  }

  public static boolean isRemote(String upstream) {
    return upstream != null && upstream.startsWith(REMOTE_PREFIX);
  }
}
