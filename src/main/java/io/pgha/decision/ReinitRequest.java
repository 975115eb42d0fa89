package io.pgha.decision;

/**
 * {@code POST /reinitialize} (§5.10), typed.
 *
 * @param force even while another operation runs
 * @param fromLeader clone from the leader, not from the best replica
 */
public record ReinitRequest(boolean force, boolean fromLeader) {}
