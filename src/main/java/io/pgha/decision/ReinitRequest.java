package io.pgha.decision;

/**
 * A {@code POST /reinitialize} (patroni-compat §5.10).
 *
 * @param force go ahead even while a task is in progress
 * @param fromLeader clone from the leader, not from a {@code clonefrom} member
 */
public record ReinitRequest(boolean force, boolean fromLeader) {}
