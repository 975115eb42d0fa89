package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgha.decision.QuorumResolver.Kind;
import io.pgha.decision.QuorumResolver.QuorumError;
import io.pgha.decision.QuorumResolver.State;
import io.pgha.decision.QuorumResolver.Transition;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@link QuorumResolver} against the cases of Patroni's tests/test_quorum.py (names lower-cased: pgha maps
 * application names to member names before it asks), checked the way Patroni checks them: the expected transitions,
 * the same list minus its head when the first step was made and the run interrupted, and no error from the
 * interrupted states with standbys gone or not yet confirmed. Then a property over random states: every step keeps
 * every acknowledging set meeting every promoting set.
 */
class QuorumResolverTest {
  private int nesting;
  private final List<Throwable> failures = new ArrayList<>();

  @AfterEach
  void noFailures() {
    assertThat(failures).isEmpty();
  }

  static Set<String> s(String chars) {
    Set<String> out = new TreeSet<>();
    for (char c : chars.toCharArray()) out.add(String.valueOf(c));
    return out;
  }

  static Transition t(String kind, String leader, int num, String names) {
    return new Transition(Kind.valueOf(kind), leader, num, s(names));
  }

  void check(String leader, int quorum, String voters, int numsync, String sync, int confirmed, String active,
      int wanted, String leaderWanted, List<Transition> expected) {
    check(new State(leader, quorum, s(voters), numsync, s(sync), confirmed, s(active), wanted, leaderWanted),
        expected);
  }

  private void check(State state, List<Transition> expected) {
    nesting++;
    List<Transition> result = QuorumResolver.transitions(state);
    assertThat(result).as("transitions of %s", state).isEqualTo(expected);
    // the same run, interrupted after its first write
    if (!result.isEmpty() && result.get(0).kind() != Kind.RESTART && state.leader().equals(result.get(0).leader())) {
      check(apply(state, result.get(0)), expected.subList(1, expected.size()));
    }
    nesting--;
    if (nesting > 0 || !isProperSubset(state.sync(), state.active())) return;
    State end = state;
    for (Transition e : expected) {
      if (e.kind() == Kind.RESTART || !e.leader().equals(state.leader())) return;
      end = apply(end, e);
    }
    if (end.quorum() + end.numsync() - union(end.voters(), end.sync()).size() == 0) return;
    // interrupted at every step, with any subset of the synced standbys still there, confirmed or not
    State cur = state;
    for (Transition e : expected) {
      cur = apply(cur, e);
      for (Set<String> a : subsets(state.sync())) {
        for (int c = 0; c <= a.size(); c++) {
          State x = new State(cur.leader(), cur.quorum(), cur.voters(), cur.numsync(), cur.sync(), c, a,
              cur.syncWanted(), cur.leaderWanted());
          run(x);
          if (!x.voters().isEmpty()) {
            run(new State(x.leader(), 0, Set.of(), x.numsync(), x.sync(), c, a, x.syncWanted(), x.leaderWanted()));
          }
        }
      }
    }
  }

  private void run(State x) {
    try {
      QuorumResolver.transitions(x);
    } catch (RuntimeException e) {
      failures.add(new AssertionError("threw for " + x, e));
    }
  }

  static State apply(State s, Transition t) {
    return t.kind() == Kind.SYNC
        ? new State(s.leader(), s.quorum(), s.voters(), t.num(), t.names(), s.numsyncConfirmed(), s.active(),
            s.syncWanted(), s.leaderWanted())
        : new State(t.leader(), t.num(), t.names(), s.numsync(), s.sync(), s.numsyncConfirmed(), s.active(),
            s.syncWanted(), s.leaderWanted());
  }

  static List<Set<String>> subsets(Set<String> of) {
    List<String> items = new ArrayList<>(of);
    List<Set<String>> out = new ArrayList<>();
    for (int mask = 0; mask < (1 << items.size()); mask++) {
      Set<String> sub = new TreeSet<>();
      for (int i = 0; i < items.size(); i++) if ((mask & (1 << i)) != 0) sub.add(items.get(i));
      out.add(sub);
    }
    return out;
  }

  static Set<String> union(Set<String> a, Set<String> b) {
    return QuorumResolver.union(a, b);
  }

  static boolean isProperSubset(Set<String> a, Set<String> b) {
    return b.containsAll(a) && b.size() > a.size();
  }

  @Test
  void test1111() {
    check("a", 0, "", 0, "", 0, "b", 2, "a",
        List.of(t("SYNC", "a", 1, "b"), t("RESTART", "a", 0, "")));
    check("a", 0, "", 1, "b", 1, "b", 2, "a",
        List.of(t("QUORUM", "a", 0, "b")));
    check("a", 0, "", 0, "", 0, "bcde", 2, "a",
        List.of(t("SYNC", "a", 2, "bcde"), t("RESTART", "a", 0, "")));
    check("a", 0, "", 2, "bcde", 1, "bcde", 2, "a",
        List.of(t("QUORUM", "a", 3, "bcde")));
  }

  @Test
  void test1222() {
    check("a", 0, "b", 1, "b", 1, "b", 2, "a",
        List.of());
    check("a", 0, "b", 1, "b", 1, "bc", 1, "a",
        List.of(t("QUORUM", "a", 1, "bc"), t("SYNC", "a", 1, "bc")));
    check("a", 0, "b", 1, "b", 1, "bc", 2, "a",
        List.of(t("SYNC", "a", 2, "bc"), t("QUORUM", "a", 1, "bc")));
    check("a", 1, "bc", 2, "bc", 2, "bc", 2, "a",
        List.of(t("QUORUM", "a", 0, "bc")));
    check("a", 0, "b", 1, "b", 1, "bcde", 2, "a",
        List.of(t("SYNC", "a", 2, "bc"), t("QUORUM", "a", 3, "bcde"), t("SYNC", "a", 2, "bcde")));
    check("a", 3, "bcde", 2, "bcde", 3, "bcde", 2, "a",
        List.of(t("QUORUM", "a", 2, "bcde")));
    check("a", 0, "b", 1, "b", 0, "", 1, "a",
        List.of(t("QUORUM", "a", 0, ""), t("SYNC", "a", 0, "")));
    check("a", 0, "b", 1, "b", 0, "c", 1, "a",
        List.of(t("QUORUM", "a", 0, ""), t("SYNC", "a", 1, "c"), t("RESTART", "a", 0, "")));
    check("a", 0, "", 1, "c", 1, "c", 1, "a",
        List.of(t("QUORUM", "a", 0, "c")));
  }

  @Test
  void test1233() {
    check("a", 0, "b", 2, "bc", 1, "b", 2, "a",
        List.of(t("SYNC", "a", 1, "b")));
    check("a", 0, "b", 2, "bc", 1, "bc", 2, "a",
        List.of(t("QUORUM", "a", 1, "bc")));
    check("a", 0, "b", 2, "bc", 1, "bcd", 2, "a",
        List.of(t("QUORUM", "a", 2, "bcd"), t("SYNC", "a", 2, "bcd")));
    check("a", 2, "bcd", 2, "bcd", 3, "bcd", 2, "a",
        List.of(t("QUORUM", "a", 1, "bcd")));
    check("a", 0, "b", 2, "bc", 1, "bc", 1, "a",
        List.of(t("QUORUM", "a", 1, "bc"), t("SYNC", "a", 1, "bc")));
  }

  @Test
  void test2322() {
    check("a", 1, "bc", 1, "b", 1, "b", 1, "a",
        List.of(t("QUORUM", "a", 0, "b")));
    check("a", 1, "bc", 1, "b", 1, "bc", 1, "a",
        List.of(t("SYNC", "a", 1, "bc")));
    check("a", 1, "bc", 1, "b", 1, "bcd", 1, "a",
        List.of(t("SYNC", "a", 1, "bc"), t("QUORUM", "a", 2, "bcd"), t("SYNC", "a", 1, "bcd")));
    check("a", 1, "bc", 1, "b", 1, "bc", 2, "a",
        List.of(t("SYNC", "a", 2, "bc")));
    check("a", 1, "bc", 2, "bc", 2, "bc", 2, "a",
        List.of(t("QUORUM", "a", 0, "bc")));
  }

  @Test
  void test3535() {
    check("a", 2, "bcde", 2, "bcde", 2, "bc", 2, "a",
        List.of(t("SYNC", "a", 2, "bc"), t("QUORUM", "a", 0, "bc")));
    check("a", 2, "bcde", 2, "bcde", 3, "bcd", 2, "a",
        List.of(t("SYNC", "a", 2, "bcd"), t("QUORUM", "a", 1, "bcd")));
    check("a", 2, "bcde", 2, "bcde", 2, "bc", 1, "a",
        List.of(t("SYNC", "a", 2, "bc"), t("QUORUM", "a", 1, "bc"), t("SYNC", "a", 1, "bc")));
    check("a", 1, "bcde", 3, "bcde", 2, "bc", 1, "a",
        List.of(t("SYNC", "a", 3, "bcd"), t("QUORUM", "a", 1, "bc"), t("SYNC", "a", 1, "bc")));
    check("a", 2, "bcde", 2, "bcde", 2, "bcde", 3, "a",
        List.of(t("SYNC", "a", 3, "bcde")));
    check("a", 2, "bcde", 3, "bcde", 3, "bcde", 3, "a",
        List.of(t("QUORUM", "a", 1, "bcde")));
    check("a", 2, "bcde", 2, "bcde", 2, "bcdef", 1, "a",
        List.of(t("QUORUM", "a", 4, "bcdef"), t("SYNC", "a", 1, "bcdef")));
    check("a", 2, "bcde", 2, "bcde", 2, "bcd", 3, "a",
        List.of(t("SYNC", "a", 3, "bcd"), t("QUORUM", "a", 1, "bcd")));
  }

  @Test
  void testRemoveNosyncNode() {
    check("a", 0, "bc", 2, "bc", 1, "b", 2, "a",
        List.of(t("QUORUM", "a", 0, "b"), t("SYNC", "a", 1, "b")));
  }

  @Test
  void testSwapSyncNode() {
    check("a", 0, "bc", 2, "bc", 1, "bd", 2, "a",
        List.of(t("QUORUM", "a", 0, "b"), t("SYNC", "a", 2, "bd"), t("QUORUM", "a", 1, "bd")));
  }

  @Test
  void testPromotion() {
    check("a", 2, "bcd", 0, "", 0, "", 1, "c",
        List.of(t("SYNC", "a", 1, "abd"), t("QUORUM", "c", 2, "abd")));
    check("c", 2, "abd", 1, "abd", 0, "b", 1, "c",
        List.of(t("SYNC", "c", 1, "b"), t("QUORUM", "c", 0, "b")));
    check("c", 2, "abd", 1, "abd", 0, "", 1, "c",
        List.of(t("QUORUM", "c", 0, ""), t("SYNC", "c", 0, "")));
  }

  @Test
  void testNonsyncPromotion() {
    check("a", 1, "bc", 0, "", 0, "", 1, "d",
        List.of(t("SYNC", "a", 2, "abc"), t("QUORUM", "d", 1, "abc")));
    check("d", 1, "abc", 2, "abc", 0, "bc", 1, "d",
        List.of(t("SYNC", "d", 2, "bc"), t("QUORUM", "d", 1, "bc"), t("SYNC", "d", 1, "bc")));
    check("d", 1, "abc", 2, "abc", 0, "", 1, "d",
        List.of(t("QUORUM", "d", 0, ""), t("SYNC", "d", 0, "")));
  }

  @Test
  void testSyncHighQuorumLowSafetyMarginHigh() {
    check("a", 2, "bcdef", 4, "bcdef", 3, "bcdef", 2, "a",
        List.of(t("QUORUM", "a", 3, "bcdef"), t("SYNC", "a", 2, "bcdef")));
  }

  @Test
  void testRemoveNodesWithDecreasingSync() {
    check("a", 1, "bcdef", 4, "bcdef", 2, "bcd", 2, "a",
        List.of(t("SYNC", "a", 4, "bcde"), t("QUORUM", "a", 1, "bcd"), t("SYNC", "a", 2, "bcd")));
    check("a", 1, "bcdef", 4, "bcde", 2, "bcdg", 2, "a",
        List.of(t("QUORUM", "a", 1, "bcd"), t("SYNC", "a", 3, "bcd"), t("QUORUM", "a", 2, "bcdg"), t("SYNC", "a", 2, "bcdg")));
    check("a", 1, "bcdef", 4, "bcde", 2, "bcdf", 2, "a",
        List.of(t("SYNC", "a", 4, "bcdf"), t("QUORUM", "a", 2, "bcdf"), t("SYNC", "a", 2, "bcdf")));
    check("a", 1, "bcdef", 4, "bcde", 2, "bcde", 2, "a",
        List.of(t("QUORUM", "a", 2, "bcde"), t("SYNC", "a", 2, "bcde")));
    check("a", 1, "bcdef", 4, "bcde", 2, "cd", 1, "a",
        List.of(t("QUORUM", "a", 1, "cd"), t("SYNC", "a", 1, "cd")));
  }

  @Test
  void testEmptySsn() {
    check("a", 1, "bc", 1, "", 0, "", 1, "c",
        List.of(t("SYNC", "a", 1, "ab"), t("QUORUM", "c", 1, "ab")));
    check("c", 1, "ab", 1, "ab", 0, "b", 1, "c",
        List.of(t("SYNC", "c", 1, "b"), t("QUORUM", "c", 0, "b")));
  }

  @Test
  void invalidStates() {
    // the main invariant does not hold: the system is unsafe, quorum goes up first
    State unsafe = new State("a", 0, s("bc"), 1, s("bc"), 1, s("bc"), 1, "a");
    assertThatThrownBy(() -> QuorumResolver.checkInvariants(unsafe)).isInstanceOf(QuorumError.class);
    assertThat(QuorumResolver.transitions(unsafe)).containsExactly(t("QUORUM", "a", 1, "bc"));
    // ssn and the key disagree: somebody else changed them
    State mismatched = new State("a", 1, s("bc"), 2, s("bd"), 1, s("bd"), 1, "a");
    assertThatThrownBy(() -> QuorumResolver.checkInvariants(mismatched)).isInstanceOf(QuorumError.class);
    assertThat(QuorumResolver.transitions(mismatched))
        .containsExactly(t("QUORUM", "a", 1, "bd"), t("SYNC", "a", 1, "bd"));
  }

  /**
   * The property behind it all, checked naively: after every step of every run from a random safe state (with
   * random standbys gone, new or unconfirmed, and a random synchronous_node_count), every set that can acknowledge a
   * commit (the leader plus any numsync of ssn) meets every set that can promote (any quorum + 1 of voters and the
   * leader). States without voters are exempt: no quorum is active, as in Patroni.
   */
  @Test
  void everyStepKeepsAcknowledgersAndPromotersOverlapping() {
    Random random = new Random(Long.getLong("pgha.quorum.seed", 0x0_40_5EEDL));
    List<String> standbys = List.of("b", "c", "d", "e", "f");
    int runs = 0;
    int steps = 0;
    List<String> stuck = new ArrayList<>();
    for (int i = 0; i < 20_000; i++) {
      Set<String> sync = pick(random, standbys);
      int numsync = sync.isEmpty() ? 0 : 1 + random.nextInt(sync.size());
      Set<String> voters = random.nextInt(4) == 0 ? Set.of() : sync;
      int quorum = voters.isEmpty() ? 0 : Math.max(0, voters.size() - numsync + random.nextInt(2));
      if (quorum > 0 && quorum >= voters.size()) quorum = voters.size() - 1;
      State state = new State("a", quorum, voters, numsync, sync, random.nextInt(sync.size() + 1),
          pick(random, standbys), 1 + random.nextInt(3), "a");
      try {
        QuorumResolver.checkInvariants(state);
      } catch (QuorumError e) {
        continue; // only safe starting points
      }
      assertThat(overlaps(state)).as("generator: %s", state).isTrue();
      runs++;
      State cur = state;
      List<Transition> steps0;
      try {
        steps0 = QuorumResolver.transitions(state);
      } catch (QuorumError e) {
        stuck.add(state + ": " + e.getMessage());
        continue;
      }
      for (Transition step : steps0) {
        if (step.kind() == Kind.RESTART) break;
        cur = apply(cur, step);
        steps++;
        assertThat(overlaps(cur)).as("after %s from %s", step, state).isTrue();
      }
    }
    // no safe way found (Patroni's resolver raises for the same states; QuorumError means write nothing)
    assertThat(stuck.size()).as("stuck: %s", stuck.stream().limit(3).toList()).isLessThan(runs / 20);
    assertThat(runs).as("safe random states").isGreaterThan(1_000);
    assertThat(steps).as("steps taken").isGreaterThan(1_000);
  }

  /** Every acknowledging set meets every promoting set, by enumeration. */
  static boolean overlaps(State s) {
    if (s.voters().isEmpty()) return true;
    Set<String> electorate = union(s.voters(), Set.of(s.leader()));
    int numsync = Math.min(s.numsync(), s.sync().size());
    for (Set<String> ack : subsets(s.sync())) {
      if (ack.size() != numsync) continue;
      Set<String> have = union(ack, Set.of(s.leader()));
      for (Set<String> promoters : subsets(electorate)) {
        if (promoters.size() != s.quorum() + 1) continue;
        Set<String> common = new HashSet<>(promoters);
        common.retainAll(have);
        if (common.isEmpty()) return false;
      }
    }
    return true;
  }

  /**
   * 400 random states, with and without a failover, run through Patroni 4's own quorum.py (seed 4013, file
   * src/test/resources/quorum/patroni-random-cases.txt): the same transitions, and an error where it raises one.
   */
  @Test
  void sameTransitionsAsPatroniOnRandomStates() throws java.io.IOException {
    List<String> lines;
    try (var in = getClass().getResourceAsStream("/quorum/patroni-random-cases.txt")) {
      lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines()
          .filter(l -> !l.startsWith("#") && !l.isBlank()).toList();
    }
    assertThat(lines).hasSize(400);
    int errors = 0;
    for (String line : lines) {
      String[] halves = line.split(" = ");
      String[] f = halves[0].split(" ");
      State state = new State(f[0], Integer.parseInt(f[1]), names(f[2]), Integer.parseInt(f[3]), names(f[4]),
          Integer.parseInt(f[5]), names(f[6]), Integer.parseInt(f[7]), f[8]);
      String got;
      try {
        List<String> parts = new ArrayList<>();
        for (Transition tr : QuorumResolver.transitions(state)) {
          parts.add(tr.kind() + ":" + tr.leader() + ":" + tr.num() + ":" + String.join("", new TreeSet<>(tr.names()))
              .replaceAll("^$", "-"));
        }
        got = parts.isEmpty() ? "NONE" : String.join(" ", parts);
      } catch (QuorumError e) {
        got = "ERROR";
        errors++;
      }
      assertThat(got).as("%s", halves[0]).isEqualTo(halves[1]);
    }
    assertThat(errors).as("cases where both refuse").isBetween(1, 300);
  }

  private static Set<String> names(String chars) {
    return chars.equals("-") ? Set.of() : s(chars);
  }

  private static Set<String> pick(Random random, List<String> from) {
    Set<String> out = new TreeSet<>();
    for (String n : from) if (random.nextBoolean()) out.add(n);
    return out;
  }
}
