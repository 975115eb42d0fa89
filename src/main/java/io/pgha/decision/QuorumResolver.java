package io.pgha.decision;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * Quorum commit (patroni-compat §4.7, Patroni 4.0's {@code QuorumStateResolver}), pure: the changes that take the
 * synchronous replication state from where it is to where it should be, one safe step at a time.
 *
 * <p>The state lives in two places. PostgreSQL's {@code synchronous_standby_names = 'ANY numsync (ssn)'} says which
 * standbys may acknowledge a commit: any {@code numsync} of {@code ssn}, plus the primary itself. The {@code sync}
 * key's {@code quorum} and {@code sync_standby} (the voters) say what a candidate must see to promote: {@code quorum}
 * votes from {@code voters ∪ {leader}}, i.e. {@code quorum + 1} members of that set counting itself, none of them
 * ahead of it. No acknowledged commit can be lost as long as every acknowledging set meets every promoting set:
 * {@code |voters ∪ ssn ∪ {leader}| <= quorum + numsync + 1}, with one of the two sets inside the other.
 *
 * <p>The target for the active standbys A is {@code ssn = voters = A}, {@code numsync = min(synchronous_node_count,
 * |A|)}, {@code quorum = |A| - numsync}. Raising numsync goes before lowering quorum and the reverse, so that every
 * state in between keeps the invariant; each {@link Transition} is one write (ssn by reload, or the key by
 * compare-and-set), made and seen before the next is computed. The algorithm follows Patroni's so that a cluster
 * moved between the two agents is read the same way; {@code QuorumResolverTest} runs Patroni's cases.
 *
 * <p>Names are compared exactly: the caller maps {@code application_name} to member names first.
 */
public final class QuorumResolver {
  private QuorumResolver() {}

  /** What a transition writes. */
  public enum Kind {
    /** synchronous_standby_names := ANY num (names). */
    SYNC,
    /** the sync key := {leader, quorum: num, sync_standby: names}. */
    QUORUM,
    /** Nothing to write yet: read the state again (standbys must confirm first) and start over. */
    RESTART
  }

  /** One step; its fields are the new state. */
  public record Transition(Kind kind, String leader, int num, Set<String> names) {
    public Transition {
      names = Set.copyOf(new TreeSet<>(names));
    }
  }

  /** The state is broken or a step would break the invariant: write nothing. */
  public static final class QuorumError extends RuntimeException {
    private static final long serialVersionUID = 1L;

    QuorumError(String message) {
      super(message);
    }
  }

  /**
   * @param leader the sync key's leader
   * @param quorum the sync key's quorum
   * @param voters the sync key's sync_standby
   * @param numsync the count in synchronous_standby_names
   * @param sync the standbys named in synchronous_standby_names
   * @param numsyncConfirmed how many of them reached the primary's flush position of the last ssn change, in state
   *     {@code quorum}
   * @param active streaming standbys that may be synchronous, best first
   * @param syncWanted synchronous_node_count
   * @param leaderWanted me, the primary (differs from {@code leader} right after a failover)
   */
  public record State(String leader, int quorum, Set<String> voters, int numsync, Set<String> sync,
      int numsyncConfirmed, Set<String> active, int syncWanted, String leaderWanted) {}

  /**
   * The transitions from {@code s}, in order; the caller makes the first, then (as Patroni does) the next ones
   * while nothing else changes, stopping at a {@link Kind#RESTART}. Consecutive transitions of one kind are merged
   * (skipping the first is the same as nobody having seen it).
   *
   * @throws QuorumError when no safe way is found; the caller then leaves everything as it is
   */
  public static List<Transition> transitions(State s) {
    Run run = new Run(s);
    run.generate();
    List<Transition> all = run.out;
    List<Transition> merged = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      Transition cur = all.get(i);
      if (i + 1 < all.size() && all.get(i + 1).kind() == cur.kind()) continue;
      merged.add(cur);
      if (cur.kind() == Kind.RESTART) break;
    }
    return merged;
  }

  /** Patroni's {@code check_invariants}: throws when the state is not safe. */
  public static void checkInvariants(State s) {
    new Run(s).checkInvariants();
  }

  /** The mutable walk through the steps; each step changes these fields as the write would. */
  private static final class Run {
    String leader;
    int quorum;
    Set<String> voters;
    int numsync;
    Set<String> sync;
    int numsyncConfirmed;
    final Set<String> active;
    final int syncWanted;
    final String leaderWanted;
    final List<Transition> out = new ArrayList<>();

    Run(State s) {
      leader = s.leader();
      quorum = s.quorum();
      voters = set(s.voters());
      sync = set(s.sync());
      numsync = Math.min(s.numsync(), sync.size()); // numsync can't exceed the names listed
      numsyncConfirmed = s.numsyncConfirmed();
      active = set(s.active());
      syncWanted = s.syncWanted();
      leaderWanted = s.leaderWanted();
    }

    void checkInvariants() {
      Set<String> v = union(voters, Set.of(leader));
      Set<String> sy = union(sync, Set.of(leaderWanted));
      int nodes = union(v, sy).size();
      if (!voters.isEmpty() && nodes > quorum + numsync + 1) {
        throw new QuorumError("quorum and sync not guaranteed to overlap: nodes " + nodes + " > quorum " + quorum
            + " + sync " + numsync + " + 1");
      }
      if (!(sy.containsAll(v) || v.containsAll(sy))) {
        throw new QuorumError("mismatched sets: voters only " + minus(v, sy) + ", sync only " + minus(sy, v));
      }
    }

    void quorumUpdate(int newQuorum, Set<String> newVoters, String newLeader, boolean adjustQuorum) {
      if (newQuorum < 0) throw new QuorumError("quorum " + newQuorum + " < 0 of " + newVoters);
      if (newQuorum > 0 && newQuorum >= newVoters.size()) {
        throw new QuorumError("quorum " + newQuorum + " >= N of " + newVoters);
      }
      String oldLeader = leader;
      if (newLeader != null) {
        leader = newLeader;
      } else if (numsyncConfirmed == 0 && voters.isEmpty()) {
        // nobody is known to have caught up: keep the key without voters
        newQuorum = 0;
        newVoters = Set.of();
      } else if (adjustQuorum) {
        // fewer confirmed than numsync: ask for more votes, so that a confirmed one is among them
        newQuorum += Math.max(numsync - numsyncConfirmed, 0);
      }
      if (Objects.equals(leader, oldLeader) && newQuorum == quorum && newVoters.equals(voters)) {
        if (!voters.isEmpty()) return;
        out.add(new Transition(Kind.RESTART, leader, quorum, voters));
      }
      quorum = newQuorum;
      voters = set(newVoters);
      checkInvariants();
      out.add(new Transition(Kind.QUORUM, leader, quorum, voters));
    }

    void quorumUpdate(int newQuorum, Set<String> newVoters) {
      quorumUpdate(newQuorum, newVoters, null, true);
    }

    void syncUpdate(int newNumsync, Set<String> newSync) {
      if (newNumsync < 0) throw new QuorumError("sync " + newNumsync + " < 0 of " + newSync);
      if (newNumsync > newSync.size()) throw new QuorumError("sync " + newNumsync + " > N of " + newSync);
      numsync = newNumsync;
      sync = set(newSync);
      checkInvariants();
      out.add(new Transition(Kind.SYNC, leader, numsync, sync));
    }

    void generate() {
      try {
        if (!leaderWanted.equals(leader)) { // a failover: the old leader becomes a voter
          Set<String> v = union(minus(voters, Set.of(leaderWanted)), Set.of(leader));
          if (sync.isEmpty()) syncUpdate(v.size() - quorum, v);
          quorumUpdate(quorum, v, leaderWanted, true);
          // right after the promotion nobody may stream yet: give them a loop before dropping them
          if (intersect(sync, active).isEmpty()) return;
        } else {
          checkInvariants();
        }
      } catch (QuorumError e) {
        quorumUpdate(sync.size() - numsync, sync);
      }
      if (!leader.equals(leaderWanted)) throw new QuorumError("leader " + leader + " is not " + leaderWanted);
      // after a restart or failover nothing is known to be confirmed: derive it from the quorum
      if (numsyncConfirmed == 0 && !intersect(sync, active).isEmpty()) {
        numsyncConfirmed = Math.min(intersect(sync, active).size(), voters.size() - quorum);
      }
      nonSteadyCases();
      removeGoneNodes();
      addNewNodes();
      replicationFactorChange();
    }

    /** An earlier run was interrupted between its two writes. */
    private void nonSteadyCases() {
      if (isProperSubset(sync, voters)) {
        // in the middle of changing voters: drop dead voters that are not synced to, sync to live ones
        Set<String> removeFromVoters = minus(voters, union(sync, active));
        if (!removeFromVoters.isEmpty()) {
          quorumUpdate(voters.size() - removeFromVoters.size() - numsync, minus(voters, removeFromVoters), null,
              minus(sync, active).isEmpty());
        }
        Set<String> addToSync = minus(intersect(voters, active), sync);
        if (!addToSync.isEmpty()) syncUpdate(numsync, union(sync, addToSync));
      } else if (isProperSubset(voters, sync)) {
        // in the middle of changing numsync: drop dead synced ones (keeping a common node), add live ones to voters
        Set<String> removeFromSync = minus(sync, active);
        Set<String> kept = minus(sync, removeFromSync);
        if (!removeFromSync.isEmpty() && !kept.isEmpty() && (voters.isEmpty() || !intersect(kept, voters).isEmpty())) {
          syncUpdate(Math.min(numsync, sync.size() - removeFromSync.size()), kept);
        }
        Set<String> addToVoters = intersect(minus(sync, voters), active);
        if (!addToVoters.isEmpty()) {
          Set<String> v = union(voters, addToVoters);
          quorumUpdate(v.size() - numsync, v);
        }
        removeFromSync = minus(sync, voters);
        if (!removeFromSync.isEmpty()) {
          syncUpdate(Math.min(numsync, sync.size() - removeFromSync.size()), minus(sync, removeFromSync));
        }
      }
      if (!voters.equals(sync)) throw new QuorumError("voters " + voters + " and sync " + sync + " still differ");

      int margin = quorum + Math.min(numsync, numsyncConfirmed) - union(voters, sync).size();
      if (margin > 0) { // in the middle of changing the replication factor
        if (numsync > syncWanted) {
          syncUpdate(Math.max(syncWanted, voters.size() - quorum), sync);
        } else {
          quorumUpdate(sync.size() - numsync, voters);
        }
      } else {
        margin = quorum + numsync - union(voters, sync).size();
        if (numsync == syncWanted && margin > 0 && numsync > numsyncConfirmed) {
          quorumUpdate(sync.size() - numsync, voters);
        }
      }
    }

    private void removeGoneNodes() {
      Set<String> toRemove = minus(sync, active);
      if (!toRemove.isEmpty() && sync.equals(toRemove)) {
        quorumUpdate(0, Set.of(), null, false);
        syncUpdate(0, Set.of());
      } else if (!toRemove.isEmpty()) {
        if (quorum > 0) { // reduce the quorum first where it can
          Set<String> remove = new TreeSet<>(toRemove.stream().sorted(java.util.Comparator.reverseOrder())
              .limit(quorum).toList());
          Set<String> kept = minus(sync, remove);
          int ns = Math.min(syncWanted > numsync ? syncWanted : numsync, kept.size());
          syncUpdate(ns, kept);
          Set<String> v = minus(voters, remove);
          toRemove = intersect(toRemove, sync);
          quorumUpdate(v.size() - numsync, v, null, toRemove.isEmpty());
        }
        if (!toRemove.isEmpty()) {
          if (quorum != 0) throw new QuorumError("quorum " + quorum + " left while removing " + toRemove);
          int ns = numsync - toRemove.size();
          Set<String> kept = minus(sync, toRemove);
          Set<String> v = minus(voters, toRemove);
          int syncDecrease = ns - Math.min(syncWanted, kept.size());
          int q = syncDecrease != 0 ? Math.min(syncDecrease, v.size() - 1) : 0;
          quorumUpdate(q, v, null, false);
          syncUpdate(ns, kept);
        }
      }
    }

    private void addNewNodes() {
      Set<String> toAdd = minus(active, sync);
      if (toAdd.isEmpty()) return;
      int wanted = Math.min(syncWanted, union(sync, toAdd).size());
      int increase = wanted - numsync;
      if (increase > 0) { // first reach the replication factor
        Set<String> add;
        if (!sync.isEmpty()) {
          add = new TreeSet<>(toAdd.stream().sorted().limit(increase).toList());
          increase = add.size();
        } else {
          add = toAdd; // only the leader so far: all may be added at once
        }
        syncUpdate(numsync + increase, union(sync, add));
        Set<String> v = union(voters, add);
        quorumUpdate(v.size() - wanted, v);
        toAdd = minus(toAdd, sync);
      }
      if (!toAdd.isEmpty()) {
        Set<String> v = union(voters, toAdd);
        quorumUpdate(v.size() - wanted, v, null, wanted > numsyncConfirmed);
        syncUpdate(wanted, union(sync, toAdd));
      }
    }

    private void replicationFactorChange() {
      int increase = Math.min(syncWanted, sync.size()) - numsync;
      if (increase > 0) {
        syncUpdate(numsync + increase, sync);
        quorumUpdate(voters.size() - numsync, voters);
      } else if (increase < 0) {
        if (quorum - increase < voters.size()) {
          quorumUpdate(voters.size() - numsync - increase, voters, null, syncWanted > numsyncConfirmed);
        }
        syncUpdate(numsync + increase, sync);
      }
    }
  }

  static Set<String> set(Collection<String> c) {
    return new TreeSet<>(c);
  }

  static Set<String> union(Set<String> a, Set<String> b) {
    Set<String> r = new TreeSet<>(a);
    r.addAll(b);
    return r;
  }

  static Set<String> minus(Set<String> a, Set<String> b) {
    Set<String> r = new TreeSet<>(a);
    r.removeAll(b);
    return r;
  }

  static Set<String> intersect(Set<String> a, Set<String> b) {
    Set<String> r = new TreeSet<>(a);
    r.retainAll(b);
    return r;
  }

  private static boolean isProperSubset(Set<String> a, Set<String> b) {
    return b.containsAll(a) && b.size() > a.size();
  }
}
