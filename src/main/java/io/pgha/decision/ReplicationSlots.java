package io.pgha.decision;

import java.util.Set;
import java.util.TreeSet;

/**
 * Whose physical replication slot a member keeps (patroni-compat §10.4, Patroni's
 * {@code Cluster.get_replication_slots}): a slot lives on the member the other one streams from, so that it retains
 * exactly the WAL someone still needs.
 *
 * <ul>
 *   <li>The leader keeps one for every other member, except those that cascade from another existing member
 *       ({@code replicatefrom}): their slot is on that member, and one on the leader would retain WAL forever.
 *   <li>A replica keeps one for every member whose {@code replicatefrom} names it (unless that member leads now).
 *   <li>{@code nostream} members stream from nobody and get none.
 * </ul>
 */
public final class ReplicationSlots {
  private ReplicationSlots() {}

  /** Names of the members whose slots {@code me} must have; {@code leader}: {@code me} holds the leader key. */
  public static Set<String> members(ClusterView view, String me, boolean leader) {
    Set<String> names = new TreeSet<>();
    for (MemberRecord m : view.members().values()) {
      if (m.name().equals(me) || m.nostream()) continue;
      String upstream = upstream(view, m);
      if (leader ? upstream == null || upstream.equals(me) : me.equals(upstream) && !m.name().equals(view.leader())) {
        names.add(m.name());
      }
    }
    return names;
  }

  /** Whether any member cascades from {@code me}, a replica. */
  public static boolean cascadesFrom(ClusterView view, String me) {
    return !members(view, me, false).isEmpty();
  }

  /** The other existing member {@code m} streams from by its {@code replicatefrom} tag, or null for the leader. */
  static String upstream(ClusterView view, MemberRecord m) {
    String from = m.replicatefrom();
    return from != null && !from.equals(m.name()) && view.members().containsKey(from) ? from : null;
  }
}
