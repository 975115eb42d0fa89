package io.pgha.decision;

/**
 * While we hold the leader key, the loop proves it to itself often (a ZooKeeper request that confirms our session):
 * the fencing guard's deadline is measured from the last proof.
 */
public final class LeaderHeartbeat {
  private LeaderHeartbeat() {}

  /**
   * Whether the heartbeat should run. It starts when we hold the key, except while shutting down in pause or with
   * postgres already down. Once running, it keeps running while postgres still runs as primary and the agent is not
   * shutting down, even if the view no longer shows our key: each failed confirmation asks for a cycle, which
   * demotes.
   *
   * @param confirmingNow the heartbeat runs now
   */
  public static boolean shouldConfirm(boolean leaderIsMe, boolean shuttingDown, boolean paused,
      boolean postmasterAlive, boolean runningPrimary, boolean confirmingNow) {
    boolean holding = leaderIsMe && !(shuttingDown && (paused || !postmasterAlive));
    if (holding) return true;
    return confirmingNow && runningPrimary && !shuttingDown;
  }

  /**
   * Every ttl/10, between 100 ms and 1 s. The period does not move the fence nor the guard's deadline later: both are
   * measured from the send time of the last answered confirmation, so a longer period only makes them fire sooner
   * after the last proof (never later than ZooKeeper can expire the session). It is the leader's main idle cost
   * (a ZooKeeper request and a guard push each time), hence 1 s at ttl 10 and above (was 500 ms).
   */
  public static long periodMs(int ttlSeconds) {
    return Math.max(100, Math.min(1000, ttlSeconds * 100L));
  }
}
