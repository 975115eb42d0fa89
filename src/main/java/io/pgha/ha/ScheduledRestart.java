package io.pgha.ha;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.decision.RestartRequest;

/**
 * A restart requested for later with {@code POST /restart {"schedule": ...}} (patroni-compat §3.18, §5.9): kept in
 * memory and published in the member key as {@code scheduled_restart}. When its time comes, {@link #check} says
 * what to do, with Patroni's rules ({@code Ha.evaluate_scheduled_restart}, {@code should_run_scheduled_action}).
 *
 * @param schedule the ISO-8601 time as requested
 * @param atEpochMs the same time in epoch milliseconds
 * @param conditions the request's other keys ({@code role}, {@code postgres_version}, {@code restart_pending},
 *     {@code timeout}), checked when it runs
 * @param postmasterStartTime postgres's start time when the restart was scheduled, null if it was not running
 */
public record ScheduledRestart(String schedule, long atEpochMs, RestartRequest conditions,
    String postmasterStartTime) {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** What a scheduled restart wants now. */
  public enum Due {
    /** More than loop_wait ahead, or an operation is in progress: look again later. */
    WAIT,
    /** Paused: never run in pause; look again later (it goes stale if the pause outlasts its window). */
    PAUSED,
    /** Due (at most loop_wait ahead, at most 1.5 loop_wait late): restart now, if the conditions hold. */
    RUN,
    /** More than 1.5 loop_wait late (the agent was busy or paused): drop it. */
    STALE,
    /** postgres was restarted meanwhile (its start time changed): drop it, its purpose is served. */
    ALREADY_RESTARTED
  }

  /**
   * @param busy an operation on postgres is in progress (a restart, a start...)
   * @param currentPostmasterStartTime postgres's start time now, null if unknown
   */
  public Due check(long nowEpochMs, long loopWaitMs, boolean paused, boolean busy, String currentPostmasterStartTime) {
    if (busy) return Due.WAIT;
    if (postmasterStartTime != null && currentPostmasterStartTime != null
        && !postmasterStartTime.equals(currentPostmasterStartTime)) {
      return Due.ALREADY_RESTARTED;
    }
    long untilMs = atEpochMs - nowEpochMs;
    if (untilMs < -(loopWaitMs * 3 / 2)) return Due.STALE;
    if (paused) return Due.PAUSED;
    return untilMs > loopWaitMs ? Due.WAIT : Due.RUN;
  }

  /** The member key's {@code scheduled_restart}: the schedule, the start time it was taken at, and the conditions. */
  public ObjectNode memberJson() {
    ObjectNode json = JSON.createObjectNode().put("schedule", schedule);
    if (postmasterStartTime != null) json.put("postmaster_start_time", postmasterStartTime);
    if (conditions.role() != null) json.put("role", conditions.role());
    if (conditions.postgresVersion() != null) json.put("postgres_version", conditions.postgresVersion());
    if (conditions.restartPending() != null) json.put("restart_pending", conditions.restartPending());
    return json;
  }
}
