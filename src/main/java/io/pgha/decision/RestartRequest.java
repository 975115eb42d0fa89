package io.pgha.decision;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A {@code POST /restart} or {@code DELETE /restart} (patroni-compat §5.9, §3.18), as the REST API validated it.
 *
 * @param role restart only if postgres runs in this role ({@code primary}, {@code master}, {@code replica},
 *     {@code standby_leader}), or null
 * @param postgresVersion restart only if the running server is older than this version, or null
 * @param restartPending {@code TRUE}: restart only if a restart is pending; null when not given
 * @param schedule an ISO-8601 time with offset: schedule the restart for then instead of now; or null
 * @param cancel {@code DELETE /restart}: cancel the scheduled restart
 * @param timeout the request's {@code timeout} in seconds, or null; the REST API waits that long for the reply, and
 *     a scheduled restart keeps it in the member key
 */
public record RestartRequest(String role, String postgresVersion, Boolean restartPending, String schedule,
    boolean cancel, Long timeout) {

  /** The request without {@code timeout} (the signature agreed in issue 10's design). */
  public RestartRequest(String role, String postgresVersion, Boolean restartPending, String schedule, boolean cancel) {
    this(role, postgresVersion, restartPending, schedule, cancel, null);
  }

  public static final RestartRequest NOW = new RestartRequest(null, null, null, null, false, null);
  public static final RestartRequest CANCEL = new RestartRequest(null, null, null, null, true, null);

  /**
   * From the body the REST API sends on the bus (a JSON object as a map); a value of the wrong type counts as absent,
   * so that a body from elsewhere cannot make the HA loop throw.
   */
  public static RestartRequest fromMap(Map<String, ?> body) {
    if (body == null) return NOW;
    return new RestartRequest(
        body.get("role") instanceof String r ? r : null,
        body.get("postgres_version") instanceof String v ? v : null,
        body.get("restart_pending") instanceof Boolean p ? p : null,
        body.get("schedule") instanceof String s ? s : null,
        Boolean.TRUE.equals(body.get("cancel")),
        body.get("timeout") instanceof Number t ? Long.valueOf(t.longValue()) : null);
  }

  /** The same conditions, to be checked now (a scheduled restart that fell due); the timeout stays. */
  public RestartRequest withoutSchedule() {
    return new RestartRequest(role, postgresVersion, restartPending, null, false, timeout);
  }

  /** The request's keys as the REST API sent them (the member key's {@code scheduled_restart} shows them). */
  public Map<String, Object> conditionFields() {
    Map<String, Object> fields = new LinkedHashMap<>();
    if (role != null) fields.put("role", role);
    if (postgresVersion != null) fields.put("postgres_version", postgresVersion);
    if (timeout != null) fields.put("timeout", timeout);
    if (restartPending != null) fields.put("restart_pending", restartPending);
    return fields;
  }
}
