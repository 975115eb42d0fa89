package io.pgha.decision;

/**
 * When a running replica asks the leader for its timeline history (issue 9, patroni-compat §3.13): the check costs two
 * short replication connections, so it runs only when divergence is possible and not twice in a row for the same
 * situation. The verdict of the check itself is {@link TimelineHistory#replicaMustRewind}; the HA loop owns the state.
 */
public final class TimelineCheck {
  /** A replica not streaming this long while a leader exists checks whether its WAL forked off the leader's. */
  public static final long NOT_STREAMING_MS = 2000;
  /** The same check (same leader, timelines and position) is not repeated more often than this. */
  public static final long REPEAT_MS = 5000;
  /** After a failed check (the leader not reachable yet), the same situation is checked again this soon. */
  public static final long RETRY_AFTER_FAILURE_MS = 1000;

  private TimelineCheck() {}

  /** What the loop knows when it considers a check; {@code notStreamingForMs} is -1 while the walreceiver streams. */
  public record Situation(String leader, int leaderKeyTimeline, int localTimeline, long localLsn,
      long notStreamingForMs, boolean streamingFromLeader, boolean diverged) {

    /** Two checks of the same situation give the same answer. */
    public String key() {
      return leader + "/" + leaderKeyTimeline + "/" + localTimeline + "/" + localLsn;
    }
  }

  /**
   * Whether a check may be considered at all: a running replica with no task in flight, following a leader that is
   * another member, outside pause and not tagged {@code nostream}. (One check at a time is the loop's business.)
   */
  public static boolean applies(ClusterView view, LocalState local, boolean paused, boolean nostream) {
    return view != null && view.hasLeader() && !view.leaderIsMe() && !paused && !nostream && local.task() == null
        && local.isRunningReplica() && !view.leader().equals(local.name());
  }

  /**
   * @param lastLeader the leader of the last check, or null
   * @param lastKey the {@link Situation#key()} of the last check, or null
   * @param msSinceLast how long ago the last check started
   */
  public static boolean due(Situation s, String lastLeader, String lastKey, long msSinceLast) {
    boolean leaderChanged = !s.leader().equals(lastLeader);
    boolean leaderAhead = s.leaderKeyTimeline() > s.localTimeline();
    boolean notStreaming = s.notStreamingForMs() >= NOT_STREAMING_MS;
    if (!leaderChanged && !leaderAhead && !notStreaming && !s.diverged()) return false;
    // postgres streams from the leader only along the leader's history: no fork can stand in its way (and right
    // after a timeline switch the walreceiver's received_tli lags its written WAL, which would look like one)
    if (s.streamingFromLeader() && !s.diverged()) return false;
    return !s.key().equals(lastKey) || msSinceLast >= REPEAT_MS;
  }

  /**
   * The "last check started at" to record after a failed check, so that the same situation is checked again in
   * {@link #RETRY_AFTER_FAILURE_MS} rather than {@link #REPEAT_MS}.
   */
  public static long startedAtAfterFailure(long nowMs) {
    return nowMs - REPEAT_MS + RETRY_AFTER_FAILURE_MS;
  }
}
