package io.pgha.decision;

import io.pgha.config.DynamicConfig;

/**
 * §4.6: a synchronous standby about to stop (restart, agent shutdown) first asks to leave the sync set, by publishing
 * {@code nosync}, and waits up to 2 × loop_wait for the primary to drop it from the {@code sync} key, so that the
 * primary's commits never wait for a standby that is going away. Then it proceeds anyway. The wait reacts to the
 * view (the {@code sync} key's watch), the deadline to a timer.
 */
public final class SyncLeave {
  private SyncLeave() {}

  /** Where a member leaving the sync set stands. */
  public enum Progress {
    /** The {@code sync} key no longer lists it: stop postgres now. */
    LEFT,
    /** Still listed after the deadline: stop postgres anyway. */
    TIMED_OUT,
    /** Still listed: wait for the next view (or the deadline). */
    WAIT
  }

  /**
   * A member must leave before postgres stops only in synchronous mode {@code on}, when the {@code sync} key lists it
   * as a synchronous standby and it is not tagged {@code nosync} (then it is never listed for long).
   *
   * @param sync the {@code sync} key as the view shows it; null (no view) counts as empty
   */
  public static boolean mustLeave(DynamicConfig.SyncMode mode, boolean nosyncTag, SyncState sync, String me) {
    return mode == DynamicConfig.SyncMode.ON && !nosyncTag && sync != null && sync.standbys().contains(me);
  }

  /** Dropped from the key wins over the deadline; the deadline passes strictly after {@code deadlineMs}. */
  public static Progress progress(SyncState sync, String me, long nowMs, long deadlineMs) {
    if (sync == null || !sync.standbys().contains(me)) return Progress.LEFT;
    return nowMs > deadlineMs ? Progress.TIMED_OUT : Progress.WAIT;
  }

  /** The wait ends 2 × loop_wait after it began. */
  public static long deadlineMs(long startMs, int loopWaitSeconds) {
    return startMs + 2000L * loopWaitSeconds;
  }
}
