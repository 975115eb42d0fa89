package io.pgha.decision;

import java.util.Map;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * What a new view of the cluster changes for the loop: whether it runs a cycle at once (rather than at the next
 * loop_wait), and which local knowledge it makes stale.
 */
public final class ViewChange {
  /** The trigger named in the decision line of a cycle run for a view. */
  public static final String TRIGGER = "zookeeper";

  private ViewChange() {}

  /**
   * A cycle is due for the first view, and when the leader key's holder, {@code initialize}, {@code failover},
   * {@code config} or {@code sync}, or a member's state, role or {@code checkpoint_after_promote} changed (a replica
   * waiting to pg_rewind from a new leader goes on the moment that leader's checkpoint is done, not a loop_wait
   * later); other changes (a member's WAL position, say) wait for loop_wait.
   *
   * @return {@link #TRIGGER}, or null when no cycle is needed
   */
  public static String trigger(ClusterView old, ClusterView now) {
    if (old == null || leaderChanged(old, now) || !Objects.equals(old.initialize(), now.initialize())
        || !Objects.equals(old.failover(), now.failover()) || configChanged(old, now)
        || !runningMembers(old).equals(runningMembers(now))) {
      return TRIGGER;
    }
    return null;
  }

  /**
   * The view as the loop must see it: once our session deleted its leader key (and has not taken it again), a view
   * that still shows the key as ours is older than the delete. Believing it would start postgres as a primary beside
   * the new leader (after a switchover the old primary once did, for ~0.2 s, and lost the writes it took).
   */
  public static ClusterView seen(ClusterView view, boolean keyReleased) {
    return view != null && keyReleased && view.leaderIsMe() ? view.withLeader(null, false) : view;
  }

  /** The ZooKeeper session connected or disconnected: a cycle at once (trigger), else null. */
  public static String healthTrigger(boolean wasConnected, boolean connected) {
    return wasConnected != connected ? "zookeeper connection" : null;
  }

  /** The leader key's holder changed, or whether it is ours. */
  public static boolean leaderChanged(ClusterView a, ClusterView b) {
    return !Objects.equals(a.leader(), b.leader()) || a.leaderIsMe() != b.leaderIsMe();
  }

  /**
   * Local knowledge a new leader (or none) makes stale: peer probe results belong to one race; a diverged replica
   * whose pg_rewind failed tries again from a new leader (Patroni does too).
   */
  public static LocalState localAfter(ClusterView old, ClusterView now, LocalState local) {
    if (old == null || !leaderChanged(old, now)) return local;
    LocalState.Builder b = null;
    if (local.diverged() && local.rewindFailed() && local.dataDir() == DataDirState.REPLICA) {
      b = local.toBuilder().rewindFailed(false);
    }
    if (local.peers() != null) b = (b == null ? local.toBuilder() : b).peers(null);
    return b == null ? local : b.build();
  }

  private static boolean configChanged(ClusterView a, ClusterView b) {
    return !Objects.equals(raw(a), raw(b)) || !Objects.equals(a.sync(), b.sync());
  }

  private static Object raw(ClusterView v) {
    return v.config() == null ? null : v.config().raw();
  }

  private static Map<String, String> runningMembers(ClusterView v) {
    return v.members().values().stream()
        .collect(Collectors.toMap(MemberRecord::name,
            m -> m.state() + "/" + m.role() + (m.checkpointAfterPromotePending() ? "/checkpoint pending" : "")));
  }
}
