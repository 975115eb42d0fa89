package io.pgha.decision;

/**
 * One {@code members/<name>} znode as read from ZooKeeper (patroni-compat §2), reduced to what decisions use.
 *
 * @param xlogLocation published WAL position, or null
 * @param timeline published timeline, or null
 * @param checkpointAfterPromotePending {@code checkpoint_after_promote: false}: the member was just promoted and its
 *     pg_control does not show the new timeline yet, so pg_rewind must not use it as a source
 */
public record MemberRecord(
    String name,
    String connUrl,
    String apiUrl,
    String state,
    String role,
    Long xlogLocation,
    Integer timeline,
    boolean nofailover,
    Integer failoverPriority,
    boolean clonefrom,
    boolean nostream,
    String replicatefrom,
    boolean checkpointAfterPromotePending) {

  public boolean isRunning() {
    return "running".equals(state) || "streaming".equals(state);
  }

  public boolean canFailover() {
    return !nofailover && (failoverPriority == null || failoverPriority > 0);
  }

  public int effectiveFailoverPriority() {
    return nofailover ? 0 : failoverPriority == null ? 1 : failoverPriority;
  }
}
