package io.pgha.decision;

/**
 * The {@code failover} znode: with {@code leader} set it is a switchover away from that member, without it a manual
 * failover to {@code candidate} (stored as {@code member}).
 *
 * @param scheduledAtEpochMs when it is due, or null for now
 */
public record FailoverRequest(String leader, String candidate, Long scheduledAtEpochMs) {
  public boolean isSwitchover() {
    return leader != null && !leader.isEmpty();
  }
}
