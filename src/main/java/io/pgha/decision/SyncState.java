package io.pgha.decision;

import java.util.Set;

/**
 * The {@code sync} znode (patroni-compat §4.3): which member owns the current {@code synchronous_standby_names} and
 * which standbys are confirmed synchronous under it.
 *
 * @param leader the primary that wrote it, or null when absent or empty
 * @param standbys the confirmed synchronous standbys (never null); in quorum mode the voters (§4.7)
 * @param quorum quorum mode: how many voters a candidate needs to see, none ahead of it (0 when absent)
 * @param version the znode version for compare-and-set, -1 when the znode does not exist
 */
public record SyncState(String leader, Set<String> standbys, int quorum, int version) {
  public static final SyncState EMPTY = new SyncState(null, Set.of(), -1);

  public SyncState {
    standbys = standbys == null ? Set.of() : Set.copyOf(standbys);
    quorum = Math.max(0, quorum);
  }

  public SyncState(String leader, Set<String> standbys, int version) {
    this(leader, standbys, 0, version);
  }

  /** Patroni's {@code SyncState.matches(name, check_leader=True)}: the leader or a listed standby (voter). */
  public boolean lists(String member) {
    return !isEmpty() && (member.equals(leader) || standbys.contains(member));
  }

  public boolean isEmpty() {
    return leader == null;
  }

  /** A member that may take over in synchronous mode {@code on}: the sync leader or a listed standby (§3.5.10). */
  public boolean mayRace(String member) {
    return member.equals(leader) || standbys.contains(member);
  }
}
