package io.pgha.decision;

/**
 * {@code POST /restart} (§5.9), typed: each condition null when not asked for.
 *
 * @param role restart only if this member has this role ({@code primary}/{@code master} or {@code replica})
 * @param postgresVersion restart only if the running server is older than this version
 * @param restartPending restart only if postgres has settings waiting for a restart
 * @param schedule an ISO-8601 time: restart then instead of now
 * @param cancel delete the scheduled restart instead
 */
public record RestartRequest(String role, String postgresVersion, Boolean restartPending, String schedule,
    boolean cancel) {
  /** The same conditions, to be checked now (a scheduled restart that fell due). */
  public RestartRequest withoutSchedule() {
    return new RestartRequest(role, postgresVersion, restartPending, null, false);
  }
}
