package io.pgha.decision;

import io.pgha.config.DynamicConfig;
import java.util.Map;

/**
 * An immutable snapshot of the cluster as the ZooKeeper watcher last saw it.
 *
 * @param leader the member named in the {@code leader} znode, or null when there is none
 * @param leaderIsMe the {@code leader} znode's ephemeral owner is this agent's current session
 * @param members every {@code members/<name>} znode, by name
 * @param initialize the {@code initialize} znode: null when absent, empty while a bootstrap runs, else the system id
 * @param config the parsed {@code config} znode, or null when absent or not a JSON object
 * @param failover a pending switchover/failover request, or null
 * @param clusterTimeline from {@code history}: last entry's timeline + 1, 1 for {@code []}, 0 when unknown
 * @param optime the leader's last published WAL position ({@code status.optime}), 0 when unknown
 * @param configError why the {@code config} znode could not be read (it is not a JSON object), else null; the
 *     agents then keep the last valid configuration
 * @param sync the {@code sync} znode (§4.3), or {@link SyncState#EMPTY} when absent or empty
 * @param failsafe the {@code failsafe} znode (§10.2): member name to api_url; null when absent or not an object of
 *     strings
 */
public record ClusterView(
    String leader,
    boolean leaderIsMe,
    Map<String, MemberRecord> members,
    String initialize,
    DynamicConfig config,
    FailoverRequest failover,
    int clusterTimeline,
    long optime,
    String configError,
    SyncState sync,
    Map<String, String> failsafe) {

  public static final ClusterView EMPTY = new ClusterView(null, false, Map.of(), null, null, null, 0, 0);

  public ClusterView {
    if (sync == null) sync = SyncState.EMPTY;
    if (failsafe != null) failsafe = Map.copyOf(failsafe);
  }

  public ClusterView(String leader, boolean leaderIsMe, Map<String, MemberRecord> members, String initialize,
      DynamicConfig config, FailoverRequest failover, int clusterTimeline, long optime, String configError,
      SyncState sync) {
    this(leader, leaderIsMe, members, initialize, config, failover, clusterTimeline, optime, configError, sync, null);
  }

  public ClusterView(String leader, boolean leaderIsMe, Map<String, MemberRecord> members, String initialize,
      DynamicConfig config, FailoverRequest failover, int clusterTimeline, long optime) {
    this(leader, leaderIsMe, members, initialize, config, failover, clusterTimeline, optime, null, SyncState.EMPTY);
  }

  /** The same view with another leader key holder (used right after our own create succeeded). */
  public ClusterView withLeader(String name, boolean mine) {
    return new ClusterView(name, mine, members, initialize, config, failover, clusterTimeline, optime, configError,
        sync, failsafe);
  }

  public ClusterView withSync(SyncState newSync) {
    return new ClusterView(leader, leaderIsMe, members, initialize, config, failover, clusterTimeline, optime,
        configError, newSync, failsafe);
  }

  public ClusterView withFailsafe(Map<String, String> newFailsafe) {
    return new ClusterView(leader, leaderIsMe, members, initialize, config, failover, clusterTimeline, optime,
        configError, sync, newFailsafe);
  }

  /** The same view with this member record added or replaced. */
  public ClusterView withMember(MemberRecord member) {
    Map<String, MemberRecord> all = new java.util.TreeMap<>(members);
    all.put(member.name(), member);
    return new ClusterView(leader, leaderIsMe, Map.copyOf(all), initialize, config, failover, clusterTimeline, optime,
        configError, sync, failsafe);
  }

  public boolean hasLeader() {
    return leader != null && !leader.isEmpty();
  }

  public MemberRecord leaderMember() {
    return leader == null ? null : members.get(leader);
  }

  /** {@code initialize} holds a valid system identifier (at least 10 digits). */
  public boolean initializedWithSysid() {
    return initialize != null && initialize.length() >= 10 && initialize.chars().allMatch(Character::isDigit);
  }

  public boolean bootstrapInProgress() {
    return initialize != null && initialize.isEmpty();
  }
}
