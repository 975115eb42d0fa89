package io.pgha.decision;

import java.util.List;
import java.util.Map;

/**
 * The end of a graceful demotion for a switchover (patroni-compat §3.8): postgres is stopped, its final WAL position
 * known; the key goes to the candidate only when it has received that position, i.e. every transaction we
 * acknowledged. Otherwise the demoted primary stays the leader and the request is given up.
 */
public final class Switchover {
  /** How long the demoted primary waits for a candidate to receive its final WAL position. */
  public static final long CATCH_UP_MS = 5000;

  private Switchover() {}

  /**
   * @param candidate the member named in the request, or null (the healthiest member wins the race)
   * @param finalLsn our final WAL position ({@link #finalLsn})
   * @param candidateReceived the candidate (or, without one, any member that may fail over) received beyond
   *     {@code finalLsn} within {@link #CATCH_UP_MS} ({@link #caughtUp})
   * @param paused the cluster is in pause: nothing else starts the demoted primary again
   */
  public static Decision afterStop(String candidate, long finalLsn, boolean candidateReceived, boolean paused) {
    String forWhom = candidate == null ? "" : " for " + candidate;
    if (!candidateReceived) {
      return Decision.of(new Action.StayLeader(candidate, finalLsn), Reason.SWITCHOVER_CANDIDATE_BEHIND,
          candidate == null ? "no member" : candidate, finalLsn, CATCH_UP_MS);
    }
    if (paused && candidate != null) {
      return Decision.of(new Action.HandOver(candidate, finalLsn, true), Reason.SWITCHOVER_REJOIN_PAUSED, forWhom,
          finalLsn, candidate);
    }
    return Decision.of(new Action.HandOver(candidate, finalLsn, false), Reason.SWITCHOVER_HANDED_OVER, forWhom,
        finalLsn);
  }

  /** The final WAL position: the shutdown checkpoint's, or the last one seen running if that is further. */
  public static long finalLsn(long latestCheckpointLsn, long lsnBeforeStop) {
    return Math.max(latestCheckpointLsn, lsnBeforeStop);
  }

  /**
   * The members whose received WAL position decides the hand-over: the candidate, or without one every other member;
   * only those that may fail over count.
   */
  public static List<String> peersToAsk(ClusterView view, String me, String candidate) {
    if (view == null) return List.of();
    return view.members().values().stream()
        .filter(m -> !m.name().equals(me) && (candidate == null || m.name().equals(candidate)) && m.canFailover())
        .map(MemberRecord::name)
        .sorted()
        .toList();
  }

  /** One of the peers asked has received WAL beyond {@code finalLsn} (a position that could not be read is absent). */
  public static boolean caughtUp(Map<String, Long> receivedByPeer, long finalLsn) {
    return receivedByPeer.values().stream().anyMatch(lsn -> lsn != null && lsn > finalLsn);
  }

  /**
   * After winning the leader race: the request is done, so {@code failover} is cleared, except in pause when it names
   * us: it stays until we have promoted (§3.4: Patroni rewrites it; pgha keeps it).
   */
  public static boolean clearRequestAfterWin(FailoverRequest request, String me, boolean paused) {
    return request != null && !(paused && me.equals(request.candidate()));
  }

  /**
   * A scheduled switchover may fall due between two loop_wait cycles: how long until a cycle for it, or -1 when the
   * next loop_wait comes first (or none is scheduled, or it is due already).
   */
  public static long wakeInMs(FailoverRequest request, long nowEpochMs, long loopWaitMs) {
    Long at = request == null ? null : request.scheduledAtEpochMs();
    if (at == null) return -1;
    long inMs = at - nowEpochMs;
    return inMs > 0 && inMs < loopWaitMs ? inMs : -1;
  }
}
