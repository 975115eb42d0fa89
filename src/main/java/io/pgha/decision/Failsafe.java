package io.pgha.decision;

import io.pgha.config.DynamicConfig;
import java.util.Map;
import java.util.TreeMap;

/**
 * DCS failsafe mode (patroni-compat §10.2, {@code failsafe_mode: true}): a primary that cannot reach ZooKeeper keeps
 * running while every member listed in the {@code failsafe} key accepts its {@code POST /failsafe}.
 *
 * <p><b>Why the primary may outlive its session.</b> Once its session has expired, the leader key is gone and a
 * member that still reaches ZooKeeper could take it. Three rules keep every other member out for as long as the
 * primary may still write:
 * <ol>
 *   <li>While the {@code failsafe} key is a non-empty object, only the members it lists may race ({@link #mayRace}).
 *   <li>A listed member that accepted a round at receive time {@code r} treats the sender as the leader whenever
 *       ZooKeeper shows none, until {@code r + ttl} ({@link #effectiveView}): it follows and does not race. It refuses
 *       (500) while it runs as a primary, holds the key or has a create of the key in flight ({@link #answer}), so an
 *       accepted round never overlaps a race it could win.
 *   <li>The primary counts a round only if every other listed member answered 200 {@code Accepted}; it is then
 *       covered until {@code s + ttl}, where {@code s} is when the round was <b>sent</b>. The agent's own fence
 *       forces the stop at {@code s + ttl - 1000 ms}, the fencing guard fires at {@code s + ttl - 500 ms}, exactly the
 *       margins it keeps before a session expiry. A partial answer extends nothing.
 * </ol>
 * A request cannot be received before it was sent: {@code s <= r}, so {@code s + ttl - 500 < r + ttl}: postgres on
 * the old primary is gone before the first listed member may race, and unlisted members never race. Both windows
 * are measured on each host's monotonic clock: they need clocks that run at the same rate, not the same origin. The
 * session's own bound ({@code lockConfirmedAt + session timeout}) still holds, so the cover is the later of the two
 * ({@link #coveredUntilMs}).
 */
public final class Failsafe {
  private Failsafe() {}

  /** The agent's own fence forces the stop this long before the cover ends (as before a session expiry). */
  public static final long FENCE_MARGIN_MS = 1000;

  /**
   * The receiver's memory of the last accepted {@code POST /failsafe}.
   *
   * @param receivedAtMs monotonic ms at which we accepted it
   */
  public record Lease(String leader, String connUrl, String apiUrl, long receivedAtMs) {}

  /** The answer to a {@code POST /failsafe}: status and body, Patroni's. */
  public record Answer(int status, String message) {
    public boolean accepted() {
      return status == 200;
    }
  }

  public static final Answer ACCEPTED = new Answer(200, "Accepted");
  public static final Answer RUNNING_AS_LEADER = new Answer(500, "Running as a leader");
  public static final Answer MODE_OFF = new Answer(502, "failsafe_mode is not enabled");

  /**
   * The receiver's verdict on a {@code POST /failsafe}.
   *
   * @param holdsOrTakesKey our session holds the leader key, or a create of it is in flight
   */
  public static Answer answer(DynamicConfig cfg, LocalState local, boolean holdsOrTakesKey) {
    if (!cfg.failsafeMode()) return MODE_OFF;
    if (local.isRunningPrimary() || local.task() == Task.PROMOTE || holdsOrTakesKey) return RUNNING_AS_LEADER;
    return ACCEPTED;
  }

  /** The last accepted sender is still the leader for us (ttl after we accepted it). */
  public static boolean leaseRuns(LocalState local, DynamicConfig cfg, long nowMs) {
    Lease lease = local.failsafeLease();
    return lease != null && !lease.leader().equals(local.name())
        && nowMs - lease.receivedAtMs() < cfg.ttlSeconds() * 1000L;
  }

  /**
   * The view the core decides on: while a lease runs and ZooKeeper shows no leader, the sender is the leader (its
   * member key may be gone with its session: then a record is made from what it sent). Honoured whatever
   * {@code failsafe_mode} says now: the sender counts on it.
   */
  public static ClusterView effectiveView(ClusterView view, LocalState local, DynamicConfig cfg, long nowMs) {
    if (view == null || view.hasLeader() || !leaseRuns(local, cfg, nowMs)) return view;
    Lease lease = local.failsafeLease();
    MemberRecord known = view.members().get(lease.leader());
    MemberRecord leader = known != null && known.connUrl() != null ? known
        : new MemberRecord(lease.leader(), lease.connUrl(), lease.apiUrl(), "running", "primary", null, null, false,
            null, false, false, null, false);
    return view.withMember(leader).withLeader(lease.leader(), false);
  }

  /**
   * §3.5 rule 9: while {@code failsafe} is a non-empty object, only the members it lists may take the leader key.
   * pgha applies it whatever {@code failsafe_mode} says now (Patroni only while it is on): a primary outside
   * ZooKeeper cannot learn that the mode was turned off, and counts on it; a leader with failsafe mode off empties
   * the key instead ({@link #topologyToWrite}).
   */
  public static boolean mayRace(ClusterView view, String me) {
    Map<String, String> listed = view.failsafe();
    return listed == null || listed.isEmpty() || listed.containsKey(me);
  }

  /**
   * The {@code failsafe} key the leader should write now, or null to leave it: failsafe mode on, every member with
   * an api_url (this member among them, else nothing is written); off, an empty object in place of a stale list.
   */
  public static Map<String, String> topologyToWrite(ClusterView view, DynamicConfig cfg, String me) {
    if (!cfg.failsafeMode()) {
      return view.failsafe() != null && !view.failsafe().isEmpty() ? Map.of() : null;
    }
    Map<String, String> topology = new TreeMap<>();
    view.members().values().forEach(m -> {
      if (m.apiUrl() != null && !m.apiUrl().isEmpty()) topology.put(m.name(), m.apiUrl());
    });
    if (!topology.containsKey(me)) return null;
    return topology.equals(view.failsafe()) ? null : Map.copyOf(topology);
  }

  /**
   * The primary asks the listed members now: failsafe mode on, not paused, postgres a running primary that cannot
   * prove it holds the key (ZooKeeper lost; the key unproven for longer than the fence's grace; or, back on
   * ZooKeeper, the key still of our expired session or gone, until we take it again) and nobody else holds it.
   */
  public static boolean roundWanted(ClusterView view, LocalState local, DynamicConfig cfg, long nowMs) {
    if (!cfg.failsafeMode() || cfg.pause() || view == null || !local.isRunningPrimary()) return false;
    if (!local.dcsConnected()) return true;
    if (view.hasLeader() && !view.leader().equals(local.name())) return false; // someone else leads: we step down
    return !keyProven(view, local, cfg, nowMs);
  }

  /** Our session holds the key and proved it within the fence's grace. */
  public static boolean keyProven(ClusterView view, LocalState local, DynamicConfig cfg, long nowMs) {
    return local.dcsConnected() && view != null && view.leaderIsMe() && local.lockConfirmedAtMs() > 0
        && nowMs - local.lockConfirmedAtMs() < graceMs(local, cfg);
  }

  /**
   * Whom a round asks: every listed member but me, from the key as we last saw it and every value we may have
   * written since (a write whose answer was lost may have landed). Null when the key does not list me (or is absent
   * or garbage): then no round can keep this primary, as in Patroni.
   */
  public static Map<String, String> targets(ClusterView view, Map<String, String> maybeWritten, String me) {
    Map<String, String> listed = view == null ? null : view.failsafe();
    if (listed == null || !listed.containsKey(me)) return null;
    Map<String, String> all = new TreeMap<>(listed);
    if (maybeWritten != null) maybeWritten.forEach(all::putIfAbsent);
    all.remove(me);
    return all;
  }

  /** The last round was all accepted and its cover still runs past the fence's margin: stay primary. */
  public static boolean keepsPrimary(LocalState local, DynamicConfig cfg, long nowMs) {
    return cfg.failsafeMode() && !local.failsafeRoundFailed() && local.failsafeUntilMs() - FENCE_MARGIN_MS > nowMs;
  }

  /** The earliest moment another member may take over: the session's bound or the failsafe cover, the later. */
  public static long coveredUntilMs(LocalState local, long sessionMs) {
    return Math.max(local.lockConfirmedAtMs() + sessionMs, local.failsafeUntilMs());
  }

  /** Failsafe mode is active for this member: a primary inside an all-accepted cover, a replica inside a lease. */
  public static boolean active(LocalState local, DynamicConfig cfg, long nowMs) {
    return local.isRunningPrimary() ? !local.failsafeRoundFailed() && local.failsafeUntilMs() > nowMs
        : leaseRuns(local, cfg, nowMs);
  }

  public static long graceMs(LocalState local, DynamicConfig cfg) {
    long sessionMs = Math.min(local.sessionTtlMs(), cfg.ttlSeconds() * 1000L);
    return Math.min(cfg.retryTimeoutSeconds() * 1000L, sessionMs / 2);
  }
}
