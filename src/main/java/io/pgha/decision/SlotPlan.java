package io.pgha.decision;

import io.pgha.config.SlotsConfig;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;

/**
 * Which replication slots a member keeps, and what to do to the ones it has (patroni-compat §10.4; Patroni's
 * {@code Cluster.get_replication_slots} and {@code SlotsHandler.sync_replication_slots}). Pure: the caller reads
 * {@code pg_replication_slots}, applies the {@link Op}s in order (each failure logged, the next cycle tries again) and
 * publishes {@link #published} in the {@code status} key when it leads.
 *
 * <p>With PostgreSQL 11+ and {@code member_slots_ttl} > 0 (Patroni 4.0), every failover-capable member keeps a
 * physical slot for every other member and every permanent slot, and advances the ones nobody streams from to the
 * leader's published positions ({@code status.slots}), so that a new primary already retains what its followers and
 * the slots' consumers still need. Otherwise the leader keeps the slots of the members streaming from it and a
 * replica those of members cascading from it ({@link ReplicationSlots}).
 */
public final class SlotPlan {
  private SlotPlan() {}

  /** A non-temporary slot found in {@code pg_replication_slots}; LSNs 0 when null. */
  public record Existing(String name, String type, String database, String plugin, long restartLsn,
      long confirmedFlushLsn, String walStatus, boolean active, boolean hasXmin) {}

  /**
   * A slot this member must have.
   *
   * @param lsn where to advance it to (the leader's published position), 0: unknown, leave it
   * @param expectedActive whether someone streams from it here (then it is never advanced); null: not known
   */
  public record Wanted(String name, String type, String database, String plugin, long lsn, Boolean expectedActive) {
    boolean physical() {
      return "physical".equals(type);
    }

    boolean sameKind(Existing e) {
      return type.equals(e.type()) && (physical() || Objects.equals(database, e.database())
          && Objects.equals(plugin, e.plugin()));
    }
  }

  /** One change to the local slots. */
  public sealed interface Op {
    String slot();
  }

  /** Drop the slot if nobody streams from it. */
  public record Drop(String slot, String why) implements Op {}

  public record CreatePhysical(String slot) implements Op {}

  public record CreateLogical(String slot, String database, String plugin) implements Op {}

  /** {@code pg_replication_slot_advance}; {@code database} null for a physical slot. */
  public record Advance(String slot, String database, long lsn) implements Op {}

  /** A logical slot a replica lacks: copied from the primary's slot file (then postgres restarts). */
  public record Copy(String slot) implements Op {}

  /**
   * An op that failed; {@code walGone}: PostgreSQL said the WAL it needs is removed or the slot is invalidated
   * (SQLSTATE 58P01 or 55000), so a logical slot on a replica is copied afresh (as Patroni).
   */
  public record Failure(Op op, String message, boolean walGone) {}

  /**
   * @param primary this member runs as the primary (leads)
   * @param nofailover this member may never lead (its tag): no permanent slots, member slots only for cascading
   * @param canAdvance PostgreSQL 11 or newer ({@code pg_replication_slot_advance})
   * @param statusSlots {@code status.slots} as the leader published it
   * @param retainSlots {@code status.retain_slots}
   */
  public record Inputs(ClusterView view, String me, boolean primary, boolean nofailover, boolean canAdvance,
      SlotsConfig config, Map<String, Long> statusSlots, List<String> retainSlots) {}

  /** The slots {@code in.me()} must have, by name. */
  public static Map<String, Wanted> wanted(Inputs in) {
    ClusterView view = in.view();
    String mySlot = slotName(in.me());
    boolean retention = in.canAdvance() && in.config().memberSlotsTtlMs() > 0;
    Map<String, Wanted> out = new TreeMap<>();
    for (MemberRecord m : view.members().values()) {
      if (m.name().equals(in.me()) || m.nostream()) continue;
      String upstream = ReplicationSlots.upstream(view, m);
      boolean expectedActive = in.primary() ? upstream == null || upstream.equals(in.me())
          : in.me().equals(upstream) && !m.name().equals(view.leader());
      boolean keep = retention ? !in.nofailover() || in.me().equals(m.replicatefrom()) : expectedActive;
      if (!keep) continue;
      String slot = slotName(m.name());
      long lsn = in.statusSlots().getOrDefault(slot, 0L);
      // the leader's slot for a cascading member does not move: that member's own report does
      if (m.replicatefrom() != null && m.xlogLocation() != null) lsn = Math.max(lsn, m.xlogLocation());
      out.putIfAbsent(slot, new Wanted(slot, "physical", null, null, lsn, expectedActive));
    }
    if (!in.nofailover()) {
      for (String slot : in.retainSlots()) {
        if (!slot.equals(mySlot)) out.putIfAbsent(slot, new Wanted(slot, "physical", null, null, 0, null));
      }
    }
    if (in.nofailover() || !in.canAdvance() && !in.primary()) return out;
    for (Map.Entry<String, SlotsConfig.Permanent> e : in.config().permanent().entrySet()) {
      String slot = e.getKey();
      SlotsConfig.Permanent p = e.getValue();
      long lsn = in.statusSlots().getOrDefault(slot, 0L);
      if (p.logical()) {
        if (!in.canAdvance() || out.containsKey(slot)) continue; // a member's slot name wins (Patroni logs it)
        out.put(slot, new Wanted(slot, "logical", p.database(), p.plugin(), lsn, null));
      } else if (!slot.equals(mySlot) && !out.containsKey(slot)) {
        boolean cascading = view.members().values().stream()
            .anyMatch(m -> slotName(m.name()).equals(slot) && m.replicatefrom() != null);
        out.put(slot, new Wanted(slot, "physical", null, null, lsn, in.primary() && !cascading));
      }
    }
    return out;
  }

  /**
   * What to do, in order, to get from {@code existing} to {@code wanted}.
   *
   * @param replayLsn this replica's replay position (a logical slot cannot pass it); ignored on the primary
   * @param paused maintenance mode: nothing is dropped
   * @param clean physical slots nobody should stream from but which hold an {@code xmin} are dropped (a leader exists
   *     and it is not us while we are still a standby)
   */
  public static List<Op> ops(Map<String, Wanted> wanted, List<Existing> existing, SlotsConfig config, boolean primary,
      long replayLsn, boolean canAdvance, boolean paused, boolean clean) {
    List<Op> ops = new ArrayList<>();
    Map<String, Existing> have = new LinkedHashMap<>();
    existing.forEach(e -> have.put(e.name(), e));
    for (Existing e : existing) {
      Wanted w = wanted.get(e.name());
      boolean lost = "lost".equals(e.walStatus());
      if (w != null && !lost && w.sameKind(e)) continue;
      if ((w == null || lost) && (paused || config.ignored(e.name(), e.type(), e.database(), e.plugin()))) continue;
      ops.add(new Drop(e.name(), lost ? "its WAL is lost (wal_status = lost)"
          : w == null ? "unknown slot" : "changing from " + e.type() + " to " + w.type()));
      have.remove(e.name());
    }
    for (Wanted w : wanted.values()) {
      Existing e = have.get(w.name());
      if (w.physical()) {
        if (e == null) {
          ops.add(new CreatePhysical(w.name()));
        } else if (clean && Boolean.FALSE.equals(w.expectedActive()) && e.hasXmin() && !e.active()) {
          ops.add(new Drop(w.name(), "nobody streams from it but it holds an xmin"));
        } else if (canAdvance && !Boolean.TRUE.equals(w.expectedActive()) && !e.hasXmin() && !e.active()) {
          if (e.restartLsn() == 0) {
            ops.add(new Drop(w.name(), "it has no restart_lsn (not made by pgha)"));
          } else if (w.lsn() > e.restartLsn()) {
            ops.add(new Advance(w.name(), null, w.lsn()));
          }
        }
      } else if (primary) {
        if (e == null) ops.add(new CreateLogical(w.name(), w.database(), w.plugin()));
      } else if (e == null) {
        if (w.lsn() > 0) ops.add(new Copy(w.name()));
      } else if (w.lsn() > 0 && !e.active()) {
        long to = Math.min(w.lsn(), replayLsn);
        if (e.confirmedFlushLsn() < to) ops.add(new Advance(w.name(), w.database(), to));
      }
    }
    return ops;
  }

  /**
   * What the leader publishes in {@code status.slots}: the position of each slot it keeps (physical: restart_lsn,
   * logical: confirmed_flush_lsn) and its own slot name at its WAL position; with {@code member_slots_ttl} 0 only the
   * permanent ones (Patroni's {@code maybe_filter_permanent_slots}). Empty before PostgreSQL 11.
   */
  public static Map<String, Long> published(Map<String, Wanted> wanted, List<Existing> existing, String me,
      long myLsn, SlotsConfig config, boolean canAdvance) {
    Map<String, Long> out = new TreeMap<>();
    if (!canAdvance) return out;
    for (Existing e : existing) {
      Wanted w = wanted.get(e.name());
      if (w == null || !w.sameKind(e)) continue;
      long lsn = w.physical() ? e.restartLsn() : e.confirmedFlushLsn();
      if (lsn > 0) out.put(e.name(), lsn);
    }
    out.put(slotName(me), myLsn);
    if (config.memberSlotsTtlMs() > 0) return out;
    out.keySet().removeIf(name -> {
      SlotsConfig.Permanent p = config.permanent().get(name);
      return p == null || p.logical() && wanted.containsKey(name) && wanted.get(name).physical();
    });
    return out;
  }

  /**
   * The leader's {@code retain_slots} bookkeeping (Patroni's {@code _build_retain_slots}): each member slot it
   * publishes is seen now; a name not seen for {@code member_slots_ttl} goes. Returns the new last-seen times.
   */
  public static Map<String, Long> retain(Map<String, Long> lastSeenMs, Set<String> published, ClusterView view,
      String me, SlotsConfig config, long nowMs) {
    Map<String, Long> out = new TreeMap<>(lastSeenMs);
    if (!published.isEmpty()) {
      Set<String> members = new TreeSet<>();
      view.members().values().forEach(m -> {
        if (!m.nostream()) members.add(slotName(m.name()));
      });
      members.add(slotName(me));
      for (String name : published) {
        if (members.contains(name) && !config.hasPermanent(name, "physical")) out.put(name, nowMs);
      }
    }
    out.values().removeIf(seen -> seen + config.memberSlotsTtlMs() <= nowMs);
    return out;
  }

  /** Replication slot name of a member (patroni-compat §10.4). */
  public static String slotName(String member) {
    StringBuilder out = new StringBuilder();
    member.toLowerCase(java.util.Locale.ROOT).codePoints().forEach(c -> {
      if (c == '-' || c == '.') out.append('_');
      else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_') out.appendCodePoint(c);
      else out.append('u').append(String.format("%04d", c));
    });
    return out.length() > 63 ? out.substring(0, 63) : out.toString();
  }
}
