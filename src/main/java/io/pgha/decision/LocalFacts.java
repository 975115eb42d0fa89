package io.pgha.decision;

/**
 * How the loop turns what it observes into {@link LocalState} and the fencing guard's inputs: small rules, each with
 * a reason to be exactly so.
 */
public final class LocalFacts {
  private LocalFacts() {}

  /**
   * The timeline to believe for running postgres: without a walreceiver a standby only knows its last restartpoint's
   * timeline, which lags behind what it already replays (right when its leader stops, for one): keep the last
   * timeline seen, as Patroni does.
   */
  public static int timeline(boolean inRecovery, String walReceiverStatus, int statusTimeline, int lastTimeline) {
    return inRecovery && walReceiverStatus == null ? Math.max(statusTimeline, lastTimeline) : statusTimeline;
  }

  /** ZooKeeper counts as reachable only while the session is connected and the leader key's proof does not fail. */
  public static boolean dcsConnected(boolean sessionConnected, boolean heartbeatFailing) {
    return sessionConnected && !heartbeatFailing;
  }

  /** The session timeout the core reasons with: the one ZooKeeper negotiated, else ttl. */
  public static long sessionTtlMs(long negotiatedTimeoutMs, int ttlSeconds) {
    return negotiatedTimeoutMs > 0 ? negotiatedTimeoutMs : ttlSeconds * 1000L;
  }

  /** The fencing guard's session: the shorter of the negotiated timeout and ttl (never trust a longer grant). */
  public static long guardSessionMs(long negotiatedTimeoutMs, int ttlSeconds) {
    long ttlMs = ttlSeconds * 1000L;
    return negotiatedTimeoutMs > 0 ? Math.min(negotiatedTimeoutMs, ttlMs) : ttlMs;
  }

  /** The guard's "holds the key": the view says so and our session has not released it since. */
  public static boolean holdsKey(ClusterView view, boolean keyReleased) {
    return view != null && view.leaderIsMe() && !keyReleased;
  }

  /** A postmaster exit that nobody asked for is a crash: it marks local state and runs a cycle at once. */
  public static boolean crash(boolean alive, boolean expected) {
    return !alive && !expected;
  }

  /** A starting postgres counts as running once pg_ctl's readiness says {@code ready} (primary) or {@code standby}. */
  public static boolean startedUp(String readinessStatus) {
    return "ready".equals(readinessStatus) || "standby".equals(readinessStatus);
  }
}
