package io.pgha.config;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The cluster-wide configuration kept in the {@code config} znode (patroni-compat §8.3, §3.19), parsed leniently:
 * strings for numbers and booleans are accepted, values below the minimum are raised, and the timing rule
 * {@code loop_wait + 2*retry_timeout <= ttl} is enforced by shrinking loop_wait/retry_timeout, in memory only.
 * What was adjusted is listed in {@link #warnings()}.
 *
 * <p>Free of Jackson so that the pure core ({@code io.pgha.decision}) may hold it: {@link DynamicConfigJson} parses
 * the JSON tree and gives it back.
 *
 * @param failsafeMode {@code failsafe_mode} (§10.2): the leader keeps running without ZooKeeper while every member in
 *     the {@code failsafe} key accepts its {@code POST /failsafe}
 * @param standbyCluster {@code standby_cluster} (§10.3) when it makes this a standby cluster, else null
 * @param postgresqlParameters {@code postgresql.parameters} as GUC text (booleans as on/off); a null value means
 *     "not set here" (Patroni removes the GUC); in the key's order, unmodifiable
 * @param raw the whole {@code config} object as canonical JSON (keys sorted at every level, compact), so that two
 *     configurations are equal exactly when their trees are
 */
public record DynamicConfig(
    int ttlSeconds,
    int loopWaitSeconds,
    int retryTimeoutSeconds,
    long maximumLagOnFailoverBytes,
    int primaryStartTimeoutSeconds,
    int primaryStopTimeoutSeconds,
    SyncMode synchronousMode,
    boolean synchronousModeStrict,
    int synchronousNodeCount,
    long maximumLagOnSyncnodeBytes,
    boolean checkTimeline,
    boolean usePgRewind,
    boolean useSlots,
    boolean pause,
    boolean failsafeMode,
    StandbyCluster standbyCluster,
    Map<String, String> postgresqlParameters,
    String raw,
    List<String> warnings) {

  public DynamicConfig {
    postgresqlParameters = Collections.unmodifiableMap(new LinkedHashMap<>(postgresqlParameters));
    warnings = List.copyOf(warnings);
  }

  public enum SyncMode { OFF, ON, QUORUM }

  public static final int TTL_DEFAULT = 30;
  public static final int LOOP_WAIT_DEFAULT = 10;
  public static final int RETRY_TIMEOUT_DEFAULT = 10;
  public static final long MAXIMUM_LAG_ON_FAILOVER_DEFAULT = 1048576;
  public static final int PRIMARY_START_TIMEOUT_DEFAULT = 300;
  /**
   * Patroni raises ttl to 20; pgha allows down to 5, the least that fits loop_wait + 2*retry_timeout at their
   * minima (1 + 2*2), because its primary fences on its own measured lease (the negotiated session timeout less
   * 1 s) rather than on a loop that may run late, and the fencing guard kills postgres 0.5 s before the session can
   * expire if the agent's fence did not run. Below 5 the fence would leave under 2 s of lease per renewal.
   */
  public static final int TTL_MIN = 5;
  /**
   * With the fencing guard switched off ({@code pgha.fencing_guard: false}), the floor the code had before the guard:
   * loop_wait 1 + 2 × Patroni's retry_timeout floor 3. Only the agent's own fence holds the lease then, and a
   * shorter ttl leaves a late loop less room (GuardSettings refuses a bootstrap ttl below it at start-up).
   */
  public static final int TTL_MIN_WITHOUT_GUARD = 7;
  public static final int LOOP_WAIT_MIN = 1;
  /** Two attempts' worth of ZooKeeper retries within ttl 5 (Patroni's own floor is 3, with ttl 20). */
  public static final int RETRY_TIMEOUT_MIN = 2;

  /** What an empty {@code config} key gives ({@code DynamicConfigJson.parse({})}, checked by DynamicConfigTest). */
  public static DynamicConfig defaults() {
    return new DynamicConfig(TTL_DEFAULT, LOOP_WAIT_DEFAULT, RETRY_TIMEOUT_DEFAULT, MAXIMUM_LAG_ON_FAILOVER_DEFAULT,
        PRIMARY_START_TIMEOUT_DEFAULT, 0, SyncMode.OFF, false, 1, -1, false, false, true, false, false, null, Map.of(), "{}",
        List.of());
  }

  /**
   * This configuration with ttl raised to {@code floor} for this member alone, the reason added to {@link #warnings()}
   * ({@code raw} unchanged: the cluster's key is not rewritten, as Patroni clamps an out-of-range value in memory).
   */
  public DynamicConfig withTtlAtLeast(int floor, String reason) {
    if (ttlSeconds >= floor) return this;
    List<String> w = new ArrayList<>(warnings);
    w.add("ttl=" + ttlSeconds + " is below " + floor + ", " + reason + ": this member uses " + floor);
    return new DynamicConfig(floor, loopWaitSeconds, retryTimeoutSeconds, maximumLagOnFailoverBytes,
        primaryStartTimeoutSeconds, primaryStopTimeoutSeconds, synchronousMode, synchronousModeStrict,
        synchronousNodeCount, maximumLagOnSyncnodeBytes, checkTimeline, usePgRewind, useSlots, pause, failsafeMode,
        standbyCluster, postgresqlParameters, raw, w);
  }

  public boolean synchronousModeActive() {
    return synchronousMode != SyncMode.OFF;
  }

  /** §10.3: the lock holder is a standby leader replicating from a remote primary; nobody promotes. */
  public boolean isStandbyCluster() {
    return standbyCluster != null;
  }
}
