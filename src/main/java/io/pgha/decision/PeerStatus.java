package io.pgha.decision;

/**
 * What a peer's {@code GET /patroni} answered during a leader race (patroni-compat §3.5).
 *
 * @param reachable the peer answered with JSON that had an {@code xlog} object
 * @param primary the peer is not in recovery ({@code role} primary/master, or {@code xlog.location} present)
 * @param lsn max of received and replayed location, or the primary's location
 */
public record PeerStatus(
    String name, boolean reachable, boolean primary, long lsn, int timeline, boolean nofailover,
    int failoverPriority) {

  public static PeerStatus unreachable(String name) {
    return new PeerStatus(name, false, false, 0, 0, false, 0);
  }
}
