package io.pgha.ha.port;

import io.pgha.decision.ClusterView;
import io.pgha.dcs.DcsHealth;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionStage;

/**
 * The cluster's keys in ZooKeeper (Patroni's layout), as the loop uses them. Writes are typed: the adapter owns the
 * znode paths and the JSON of each key. New views and health arrive as inputs of the loop
 * ({@link io.pgha.ha.HaLoop#onView}, {@link io.pgha.ha.HaLoop#onHealth}); the getters read the latest ones.
 */
public interface Dcs {
  /** The latest view of the cluster (never null once the first read is done). */
  ClusterView view();

  /** The session as it stands now. */
  DcsHealth health();

  /** The session timeout the server granted, 0 when unknown. */
  long negotiatedSessionTimeoutMs();

  /** Creates the ephemeral {@code leader} key with our name; false: someone else holds it. */
  CompletionStage<Boolean> acquireLeader();

  /** Deletes our {@code leader} key (only if our session owns it). */
  CompletionStage<Void> releaseLeader();

  /** Proves that our session still owns the {@code leader} key; false: it does not (gone or someone else's). */
  CompletionStage<Boolean> confirmLeader();

  /** Creates {@code initialize} = "" to win the right to run initdb; false: another member has it. */
  CompletionStage<Boolean> raceInitialize();

  /** Writes {@code initialize} = the system id (creating it when missing). */
  CompletionStage<Void> writeInitialize(String sysid);

  /** Creates {@code initialize} = the system id unless it exists; false: it existed. */
  CompletionStage<Boolean> createInitialize(String sysid);

  /** Deletes {@code initialize} (a failed bootstrap gives the right back). */
  CompletionStage<Void> deleteInitialize();

  /** Creates {@code config} with this JSON unless it exists; false: it existed. */
  CompletionStage<Boolean> createConfig(String json);

  /** Writes {@code status} = {@code {"optime": optime}} (the leader's WAL position). */
  CompletionStage<Void> writeStatus(long optime);

  /**
   * Writes {@code status} with the leader's slot positions and the member slots it retains (§1.3, §10.4); empty
   * ones are left out. Later {@link #writeStatus(long)} calls keep them, as Patroni's {@code write_status} does.
   */
  default CompletionStage<Void> writeStatus(long optime, Map<String, Long> slots, List<String> retainSlots) {
    return writeStatus(optime);
  }

  /** {@code status.slots} and {@code status.retain_slots} as last seen; empty when absent or garbage. */
  default SlotStatus slotStatus() {
    return SlotStatus.EMPTY;
  }

  /** The slot part of the {@code status} key. */
  record SlotStatus(Map<String, Long> slots, List<String> retainSlots) {
    public static final SlotStatus EMPTY = new SlotStatus(Map.of(), List.of());
  }

  /** Writes {@code failsafe} = the member name to api_url object (§10.2), unconditionally. */
  CompletionStage<Void> writeFailsafe(Map<String, String> topology);

  /** Writes {@code failover} = {@code {}}: the request is done, stale, or cannot be carried out. */
  CompletionStage<Void> clearFailover();

  /** Writes {@code history}: one entry per timeline switch, oldest first. */
  CompletionStage<Void> writeHistory(List<HistoryEntry> history);

  /**
   * Writes {@code sync} if its version is still {@code expectedVersion} (-1: the key must not exist yet);
   * {@code leader} null writes {@code {}} (synchronous replication off). False: someone else changed it.
   */
  default CompletionStage<Boolean> writeSync(String leader, Set<String> standbys, int expectedVersion) {
    return writeSync(leader, standbys, 0, expectedVersion);
  }

  /** As above, with the {@code quorum} field (quorum commit, §4.7; 0 otherwise). */
  CompletionStage<Boolean> writeSync(String leader, Set<String> standbys, int quorum, int expectedVersion);

  /** Our ephemeral {@code members/<name>} key, kept alive across reconnects; the JSON Patroni publishes. */
  void publishMember(String json);

  /** A new session with this timeout that keeps our ephemeral keys (ttl changed). */
  CompletionStage<Void> renewSession(long sessionTimeoutMs);

  /** The api_url of a live member key with this name owned by another session, or null (§3.1). */
  CompletionStage<String> existingMemberApiUrl(String name);

  /** Removes our member key and closes the session (agent shutdown). */
  void close();

  /** One line of {@code history}: {@code [timeline, lsn, reason, timestamp, member]}. */
  record HistoryEntry(int timeline, long lsn, String reason, String timestamp, String member) {}
}
