package io.pgha.decision;

/**
 * §3.17, the agent asked to stop (SIGTERM): what happens to postgres and the leader key.
 *
 * @param stopPostgres stop postgres (fast), after leaving the sync set ({@link SyncLeave}); false in pause, where
 *     postgres keeps running unfenced
 * @param releaseKey a leader writes its final WAL position ({@code status.optime}) and releases the key once postgres
 *     is down, so that a replica that has it takes over at once
 * @param keepConfirming a leader keeps confirming its key (and pushing the fencing guard's deadline) while postgres
 *     stops: a long shutdown checkpoint must not look like a frozen agent
 * @param disarmGuard disarm the fencing guard at once (pause: nothing will stop postgres)
 * @param message the decision line's message (reason {@link Reason#SHUTDOWN})
 */
public record Shutdown(boolean stopPostgres, boolean releaseKey, boolean keepConfirming, boolean disarmGuard,
    String message) {

  public static Shutdown plan(boolean paused, boolean leaderIsMe) {
    if (paused) return new Shutdown(false, false, false, true, "paused: leaving postgres running");
    return new Shutdown(true, leaderIsMe, leaderIsMe, false, "stopping postgres");
  }

  public Reason reason() {
    return Reason.SHUTDOWN;
  }
}
