package io.pgha.dcs;

/**
 * The ZooKeeper session as this agent sees it.
 *
 * @param connected the session is connected and the last request succeeded
 * @param sessionId the current session id, 0 when none
 * @param negotiatedTimeoutMs the session timeout the server granted
 * @param lockConfirmedAtMs monotonic ms at which the last request that proved our leader key was sent, or 0
 * @param lastGoodReadEpochMs wall-clock time of the last good read, or 0
 */
public record DcsHealth(
    boolean connected, long sessionId, long negotiatedTimeoutMs, long lockConfirmedAtMs, long lastGoodReadEpochMs) {}
