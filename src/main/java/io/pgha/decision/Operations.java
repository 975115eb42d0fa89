package io.pgha.decision;

import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;

/**
 * Whether the HA loop carries out an operation the REST API asked for (patroni-compat §5.9 {@code /restart}, §5.10
 * {@code /reinitialize}, §3.18 scheduled restarts), with Patroni's statuses and messages: the REST API relays them to
 * the client as they are.
 */
public final class Operations {
  private Operations() {}

  /**
   * An immediate restart ({@code POST /restart} without {@code schedule}, or a scheduled restart falling due): its
   * conditions first (503), then one task at a time (503). An accepted restart is replied to when it is over: the
   * verdict carries the success reply (200 "restarted successfully"), {@link #restartOutcome} gives either.
   * {@code cancel} and {@code schedule} are {@link #cancelScheduled} and {@link #schedule}'s business.
   *
   * @param leaderIsMe we hold the leader key (with {@link LocalState#isRunningPrimary()}: postgres restarts as primary,
   *     see {@link #restartAsPrimary})
   * @param serverVersion the running server's {@code server_version_num}, null when unknown (the version condition
   *     then holds)
   * @param restartPending postgres reports a restart pending ({@code pending_restart})
   */
  public static OperationVerdict restart(RestartRequest req, LocalState local, boolean leaderIsMe,
      Integer serverVersion, boolean restartPending) {
    String unmet = unmetCondition(req, local, serverVersion, restartPending);
    if (unmet != null) return OperationVerdict.reject(503, Reason.RESTART_CONDITIONS_UNMET, unmet);
    if (local.task() != null) return OperationVerdict.reject(503, Reason.BUSY, local.task().text());
    return new OperationVerdict(true, 200, Reason.RESTART_DONE.format(), Reason.RESTART_ACCEPTED);
  }

  /** Which of the request's conditions does not hold, as Patroni words it, or null when all hold. */
  static String unmetCondition(RestartRequest req, LocalState local, Integer serverVersion, boolean restartPending) {
    String myRole = local.isRunningPrimary() ? "primary" : "replica";
    String role = req.role();
    if (role != null && !role.equals(myRole) && !("master".equals(role) && "primary".equals(myRole))) {
      return "role is " + myRole;
    }
    String version = req.postgresVersion();
    if (version != null && serverVersion != null && !(versionNumber(version) > serverVersion)) {
      return "postgres_version is not greater than " + serverVersion;
    }
    if (Boolean.TRUE.equals(req.restartPending()) && !restartPending) {
      return "no restart is pending";
    }
    return null;
  }

  /** An accepted restart starts postgres again as primary only if it runs as one and we hold the key. */
  public static boolean restartAsPrimary(LocalState local, boolean leaderIsMe) {
    return local.isRunningPrimary() && leaderIsMe;
  }

  /** The reply once an accepted restart is over: 200, or 503 with the error ({@code error} null: it succeeded). */
  public static OperationVerdict restartOutcome(String error) {
    return error == null ? OperationVerdict.accept(200, Reason.RESTART_DONE)
        : OperationVerdict.reject(503, Reason.RESTART_FAILED, error);
  }

  /** {@code DELETE /restart}: 404 when nothing is scheduled, else the scheduled restart is dropped. */
  public static OperationVerdict cancelScheduled(boolean scheduled) {
    return scheduled ? OperationVerdict.accept(200, Reason.RESTART_SCHEDULE_DELETED)
        : OperationVerdict.reject(404, Reason.NO_RESTART_SCHEDULED);
  }

  /**
   * {@code POST /restart {"schedule": ...}}: one scheduled restart at a time (409), a time that parses (400); then
   * 202 and {@link #scheduled} is what to keep.
   */
  public static OperationVerdict schedule(RestartRequest req, boolean alreadyScheduled) {
    if (alreadyScheduled) return OperationVerdict.reject(409, Reason.RESTART_ALREADY_SCHEDULED);
    if (scheduleEpochMs(req.schedule()) == null) {
      return OperationVerdict.reject(400, Reason.RESTART_SCHEDULE_INVALID, req.schedule());
    }
    return OperationVerdict.accept(202, Reason.RESTART_SCHEDULED);
  }

  /**
   * The restart to keep for an accepted {@link #schedule} verdict.
   *
   * @param postmasterStartTime postgres's start time now, null when it is not running
   */
  public static ScheduledRestart scheduled(RestartRequest req, String postmasterStartTime) {
    Long at = scheduleEpochMs(req.schedule());
    if (at == null) throw new IllegalArgumentException("unparsable schedule " + req.schedule());
    return new ScheduledRestart(req.schedule(), at, req.withoutSchedule(), postmasterStartTime);
  }

  /** An ISO-8601 time with offset in epoch milliseconds, null when it does not parse. */
  public static Long scheduleEpochMs(String schedule) {
    if (schedule == null) return null;
    try {
      return OffsetDateTime.parse(schedule).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  /**
   * {@code POST /reinitialize}: never on the leader nor without one (503), one task at a time unless forced (503),
   * else 200 "reinitialize started" (the reply comes at once; the work goes on as a task).
   */
  public static OperationVerdict reinitialize(ReinitRequest req, ClusterView view, LocalState local) {
    if (view == null || !view.hasLeader()) return OperationVerdict.reject(503, Reason.REINIT_NO_LEADER);
    if (view.leaderIsMe()) return OperationVerdict.reject(503, Reason.REINIT_I_AM_LEADER);
    if (local.task() != null && !req.force()) return OperationVerdict.reject(503, Reason.BUSY, local.task().text());
    return OperationVerdict.accept(200, Reason.REINIT_ACCEPTED);
  }

  /** {@code POST /reload} reloads postgres too, when it runs and no task is in flight (the task rewrites the files). */
  public static boolean reloadPostgres(LocalState local) {
    return local.pg() == PgRunState.RUNNING && local.task() == null;
  }

  /** {@code 15.4} → 150004, {@code 9.6.1} → 90601, as server_version_num; 0 when it does not parse. */
  public static int versionNumber(String version) {
    String[] parts = version.trim().split("\\.");
    try {
      int major = Integer.parseInt(parts[0]);
      if (major >= 10) return major * 10000 + (parts.length > 1 ? Integer.parseInt(parts[1]) : 0);
      return major * 10000 + (parts.length > 1 ? Integer.parseInt(parts[1]) * 100 : 0)
          + (parts.length > 2 ? Integer.parseInt(parts[2]) : 0);
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
