package io.pgha.decision;

import io.pgha.config.DynamicConfig;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The primary's step in quorum mode (patroni-compat §4.7, Patroni 4's {@code _process_quorum_replication}), pure:
 * what {@code pg_stat_replication}, the {@code sync} key and the {@code synchronous_standby_names} in force show,
 * turned into the one next write by {@link QuorumResolver}. The caller makes it, then asks again; a step is taken
 * only once PostgreSQL reports the ssn the agent last wrote, so that a lowered quorum never rests on a raised
 * numsync that is not yet in force.
 */
public final class QuorumPlanner {
  /** Patroni HEAD's placeholder when strict mode has nobody to wait for. */
  public static final String STRICT_PLACEHOLDER = "__patroni_strict_sync_replica_placeholder__";

  private QuorumPlanner() {}

  /** {@code ANY numsync (names)}; no names: none. */
  public record Ssn(int numsync, Set<String> names) {
    public static final Ssn NONE = new Ssn(0, Set.of());

    public Ssn {
      names = Set.copyOf(new TreeSet<>(names));
      numsync = Math.max(0, numsync);
    }

    /** The GUC's text (§4.3): {@code ANY 1 (a,b)}, names quoted where needed; empty for none. */
    public String text() {
      if (names.isEmpty()) return numsync > 0 ? "ANY 1 (" + STRICT_PLACEHOLDER + ")" : "";
      List<String> quoted = new TreeSet<>(names).stream().map(SyncPlanner::quoteIdentifier).toList();
      return "ANY " + numsync + " (" + String.join(",", quoted) + ")";
    }
  }

  /**
   * @param inForce synchronous_standby_names as PostgreSQL reports it now
   * @param written what this agent last wrote (null: nothing yet since it started)
   * @param ssnChangedAtLsn the primary's flush position when ssn last changed (a standby confirms by reaching it)
   */
  public record Input(String me, DynamicConfig config, Map<String, MemberRecord> members,
      List<SyncPlanner.Standby> standbys, SyncState sync, String inForce, Ssn written, long ssnChangedAtLsn,
      long primaryFlushLsn) {}

  /** The next change to make. */
  public sealed interface Step {
    /** Everything is as it should be. */
    record None() implements Step {}

    /** Look again shortly: PostgreSQL has not yet taken the ssn we wrote, or standbys are still confirming. */
    record Wait(String why) implements Step {}

    /** CAS-write the sync key; {@code expectedVersion} -1 creates it. */
    record WriteSync(String leader, Set<String> voters, int quorum, int expectedVersion, String why)
        implements Step {}

    /** Set synchronous_standby_names. */
    record SetSsn(Ssn ssn, String why) implements Step {}

    /** The resolver found no safe way: leave everything as it is. */
    record Stuck(String why) implements Step {}
  }

  public static Step next(Input in) {
    DynamicConfig cfg = in.config();
    SyncState sync = in.sync();
    Ssn inForce = parse(in.inForce());
    if (in.written() != null && !sameSsn(in.written(), inForce)) {
      return new Step.Wait("synchronous_standby_names '" + in.inForce() + "' is not yet '" + in.written().text()
          + "'");
    }
    if (sync.isEmpty()) {
      return new Step.WriteSync(in.me(), Set.of(), 0, sync.version(), "Enabled synchronous replication");
    }
    List<String> active = active(in);
    int strictMinimum = cfg.synchronousModeStrict() ? 1 : 0;
    if (sync.leader().equals(in.me()) && active.size() < strictMinimum) {
      // §4.5: strict and nobody streams: keep waiting for the voters, or for anyone
      Ssn keep = sync.standbys().isEmpty() ? new Ssn(1, Set.of())
          : new Ssn(Math.max(strictMinimum, sync.standbys().size() - sync.quorum()), sync.standbys());
      if (sameSsn(keep, inForce)) return new Step.None();
      return new Step.SetSsn(keep, "no synchronous standby streams: synchronous_mode_strict is requested,"
          + " commits will wait for one");
    }
    if (strictMinimum == 0 && active.isEmpty() && sync.standbys().isEmpty() && sync.leader().equals(in.me())
        && !inForce.names().isEmpty()) {
      return new Step.SetSsn(Ssn.NONE, "no synchronous standby candidates");
    }
    Set<String> confirmed = new TreeSet<>();
    for (SyncPlanner.Standby s : in.standbys()) {
      String name = memberName(in, s.applicationName());
      if (name != null && inForce.names().contains(name) && "quorum".equals(s.syncState())
          && s.flushLsn() >= in.ssnChangedAtLsn()) {
        confirmed.add(name);
      }
    }
    confirmed.retainAll(new TreeSet<>(active));
    List<QuorumResolver.Transition> transitions;
    try {
      transitions = QuorumResolver.transitions(new QuorumResolver.State(sync.leader(), sync.quorum(),
          sync.standbys(), inForce.numsync(), inForce.names(), confirmed.size(), new TreeSet<>(active),
          cfg.synchronousNodeCount(), in.me()));
    } catch (QuorumResolver.QuorumError e) {
      return new Step.Stuck(e.getMessage());
    }
    if (transitions.isEmpty()) return new Step.None();
    QuorumResolver.Transition t = transitions.get(0);
    return switch (t.kind()) {
      case RESTART -> new Step.Wait("waiting for standbys to confirm");
      case QUORUM -> new Step.WriteSync(t.leader(), t.names(), t.num(), sync.version(),
          "Setting leader to " + t.leader() + ", quorum to " + t.num() + " of (" + String.join(", ", new TreeSet<>(t.names()))
              + ")");
      case SYNC -> new Step.SetSsn(new Ssn(t.num(), t.names()), "quorum commit: " + t.num() + " of " + new TreeSet<>(t.names()));
    };
  }

  /**
   * §4.4 before promotion: ANY n (old voters ∪ old leader − me) with n = |that set| − quorum (one less when I was
   * among them), at least the strict minimum; so the commits this member acknowledges as the new primary meet every
   * promoting set of the sync key in force until it rewrites it.
   */
  public static Ssn beforePromote(String me, SyncState sync, DynamicConfig cfg) {
    Set<String> listed = new TreeSet<>(sync.standbys());
    int quorum = sync.quorum();
    if (sync.leader() != null) listed.add(sync.leader());
    int numsync = listed.size() - quorum - 1;
    if (!listed.remove(me)) numsync++;
    numsync = Math.max(numsync, cfg.synchronousModeStrict() ? 1 : 0);
    return new Ssn(numsync, listed);
  }

  /**
   * The ssn text PostgreSQL reports, as a quorum state: {@code ANY n (a,b)}; {@code FIRST n (...)}, {@code n (...)}
   * and a bare list count as n of the names (a single name as 1); {@code *} and the placeholder name nobody.
   */
  public static Ssn parse(String text) {
    if (text == null) return Ssn.NONE;
    String s = text.trim();
    if (s.isEmpty()) return Ssn.NONE;
    int num = -1;
    String upper = s.toUpperCase(Locale.ROOT);
    if (upper.startsWith("ANY ") || upper.startsWith("FIRST ")) s = s.substring(s.indexOf(' ') + 1).trim();
    int open = s.indexOf('(');
    if (open > 0 && s.endsWith(")")) {
      try {
        num = Integer.parseInt(s.substring(0, open).trim());
      } catch (NumberFormatException e) {
        num = -1;
      }
      s = s.substring(open + 1, s.length() - 1);
    }
    Set<String> names = new LinkedHashSet<>();
    for (String part : splitNames(s)) {
      if (part.equals("*") || part.equals(STRICT_PLACEHOLDER)) {
        return new Ssn(Math.max(num, 1), Set.of());
      }
      names.add(part);
    }
    if (num < 0) num = s.contains("(") ? names.size() : Math.min(1, names.size());
    return new Ssn(Math.min(num, names.size()), names);
  }

  private static List<String> splitNames(String list) {
    List<String> out = new ArrayList<>();
    StringBuilder cur = new StringBuilder();
    boolean quoted = false;
    for (int i = 0; i < list.length(); i++) {
      char c = list.charAt(i);
      if (c == '"') {
        if (quoted && i + 1 < list.length() && list.charAt(i + 1) == '"') {
          cur.append('"');
          i++;
        } else {
          quoted = !quoted;
        }
      } else if (c == ',' && !quoted) {
        if (!cur.toString().isBlank()) out.add(cur.toString().trim());
        cur.setLength(0);
      } else {
        cur.append(c);
      }
    }
    if (!cur.toString().isBlank()) out.add(cur.toString().trim());
    return out;
  }

  /** The same set and count; with no names, both none or both the strict placeholder. */
  static boolean sameSsn(Ssn a, Ssn b) {
    if (!a.names().equals(b.names())) return false;
    return a.names().isEmpty() ? (a.numsync() > 0) == (b.numsync() > 0) : a.numsync() == b.numsync();
  }

  /**
   * Patroni 4's active set in quorum mode: the sync candidates (§4.2, best first), nofailover members only while
   * fewer than synchronous_node_count are taken (they cannot promote, so they should not be all a quorum has).
   */
  static List<String> active(Input in) {
    SyncPlanner.Input planner = new SyncPlanner.Input(in.me(), in.config(), in.members(), in.standbys(), in.sync(),
        Set.of(), in.ssnChangedAtLsn(), in.primaryFlushLsn());
    List<String> out = new ArrayList<>();
    for (SyncPlanner.Standby s : SyncPlanner.candidates(planner)) {
      MemberRecord m = in.members().get(s.applicationName());
      if (m.canFailover() || out.size() < in.config().synchronousNodeCount()) out.add(s.applicationName());
    }
    return out;
  }

  private static String memberName(Input in, String applicationName) {
    if (applicationName == null) return null;
    for (String n : in.members().keySet()) {
      if (n.equalsIgnoreCase(applicationName)) return n;
    }
    return null;
  }
}
