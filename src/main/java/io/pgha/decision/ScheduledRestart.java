package io.pgha.decision;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A restart requested for later with {@code POST /restart {"schedule": ...}} (patroni-compat §3.18, §5.9): kept in
 * memory and published in the member key as {@code scheduled_restart}. When its time comes, {@link #check} says
 * what to do, with Patroni's rules ({@code Ha.evaluate_scheduled_restart}, {@code should_run_scheduled_action}).
 *
 * @param schedule the ISO-8601 time as requested
 * @param atEpochMs the same time in epoch milliseconds
 * @param conditions the request's other keys ({@code role}, {@code postgres_version}, {@code restart_pending},
 *     {@code timeout}), checked when it runs ({@link Operations#restart})
 * @param postmasterStartTime postgres's start time when the restart was scheduled, null if it was not running
 */
public record ScheduledRestart(String schedule, long atEpochMs, RestartRequest conditions,
    String postmasterStartTime) {

  public ScheduledRestart {
    conditions = conditions == null ? RestartRequest.NOW : conditions.withoutSchedule();
  }

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

  /** While it waits ({@link Due#WAIT}, {@link Due#PAUSED}): look again in at most 1 s, at least 1 ms. */
  public long recheckInMs(long nowEpochMs) {
    return Math.min(1000, Math.max(1, atEpochMs - nowEpochMs));
  }

  /**
   * The member key's {@code scheduled_restart}: the schedule, the start time it was taken at, and the conditions
   * (an ordered map; the adapter writes it as a JSON object).
   */
  public Map<String, Object> memberFields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("schedule", schedule);
    if (postmasterStartTime != null) fields.put("postmaster_start_time", postmasterStartTime);
    fields.putAll(conditions.conditionFields());
    return fields;
  }
}
