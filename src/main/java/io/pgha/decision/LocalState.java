package io.pgha.decision;

import java.util.Map;

/**
 * What this agent knows about itself when it decides: postgres, its data directory, the task in flight, and its own
 * connection to ZooKeeper. Times are milliseconds of a monotonic clock the caller owns.
 *
 * @param dataDir what the data directory holds, as last inspected while postgres was down
 * @param cleanShutdown pg_control says the last stop was clean (pg_rewind needs that)
 * @param sysid the data directory's system identifier, or null
 * @param pg postmaster state
 * @param inRecovery while running: {@code pg_is_in_recovery()}; null when unknown
 * @param upstream the member that primary_conninfo points at now, or null for none
 * @param lsn primary: flush LSN; replica: max(receive, replay); 0 when unknown
 * @param timeline current timeline, 0 when unknown
 * @param task the task in flight, or null
 * @param crashed the postmaster exited without being asked to
 * @param pgDownSinceMs when postgres was last seen going down unasked, or 0
 * @param startAttemptFailed the last start attempt ended with postgres down
 * @param wonInitializeRace this agent created {@code initialize} and owns the bootstrap
 * @param peers race probe results keyed by member, or null when no probe was made for the current race
 * @param dcsConnected the ZooKeeper session is connected now
 * @param lockConfirmedAtMs last time a ZooKeeper request confirmed our session while we held the leader key
 *     (the moment the request was sent)
 * @param sessionTtlMs the ZooKeeper session timeout actually negotiated (never above ttl)
 * @param shuttingDown the agent was asked to stop
 * @param rewindFailed pg_rewind (or its dry run) said this data directory cannot follow the leader
 * @param wallClockMs wall-clock epoch ms at decision time, for requests scheduled at a date (0: unknown)
 * @param cloneFromLeader a reinitialize asked to clone from the leader, not from a {@code clonefrom} member
 * @param diverged the leader's timeline history forks off ours before our WAL position (§3.13): this data directory
 *     cannot stream from the leader until it is rewound or cloned again
 * @param prePromoteFailed the {@code pre_promote} script of our last promotion failed (non-zero exit, time out) and
 *     the leader key it won is not released yet
 * @param prePromoteReleasedAtMs when we last released the leader key after a failed {@code pre_promote}, or 0
 * @param failsafeLease receiver side of failsafe mode (§10.2): the last primary whose {@code POST /failsafe} we
 *     accepted, with the moment we received it; null when none
 * @param failsafeUntilMs leader side: the send time of the last round of {@code POST /failsafe} that every listed
 *     member accepted, plus ttl; 0 when none
 * @param failsafeRoundFailed leader side: the last round was not accepted by every listed member (or could not be
 *     made); a later all-accepted round clears it
 */
public record LocalState(
    String name,
    DataDirState dataDir,
    boolean cleanShutdown,
    String sysid,
    PgRunState pg,
    Boolean inRecovery,
    String upstream,
    long lsn,
    int timeline,
    Task task,
    boolean crashed,
    long pgDownSinceMs,
    boolean startAttemptFailed,
    boolean wonInitializeRace,
    Map<String, PeerStatus> peers,
    boolean dcsConnected,
    long lockConfirmedAtMs,
    long sessionTtlMs,
    boolean shuttingDown,
    boolean rewindFailed,
    long wallClockMs,
    boolean cloneFromLeader,
    boolean diverged,
    boolean prePromoteFailed,
    long prePromoteReleasedAtMs,
    Failsafe.Lease failsafeLease,
    long failsafeUntilMs,
    boolean failsafeRoundFailed) {

  public boolean isRunningPrimary() {
    return (pg == PgRunState.RUNNING || pg == PgRunState.STARTING) && Boolean.FALSE.equals(inRecovery);
  }

  public boolean isRunningReplica() {
    return pg == PgRunState.RUNNING && Boolean.TRUE.equals(inRecovery);
  }

  /** A builder-style copy; records stay immutable and tests stay short. */
  public Builder toBuilder() {
    return new Builder(this);
  }

  public static Builder builder(String name) {
    return new Builder(new LocalState(name, DataDirState.EMPTY, false, null, PgRunState.STOPPED, null, null, 0, 0,
        null, false, 0, false, false, null, true, 0, 30_000, false, false, 0, false, false, false, 0, null, 0, false));
  }

  public static final class Builder {
    private String name;
    private DataDirState dataDir;
    private boolean cleanShutdown;
    private String sysid;
    private PgRunState pg;
    private Boolean inRecovery;
    private String upstream;
    private long lsn;
    private int timeline;
    private Task task;
    private boolean crashed;
    private long pgDownSinceMs;
    private boolean startAttemptFailed;
    private boolean wonInitializeRace;
    private Map<String, PeerStatus> peers;
    private boolean dcsConnected;
    private long lockConfirmedAtMs;
    private long sessionTtlMs;
    private boolean shuttingDown;
    private boolean rewindFailed;
    private long wallClockMs;
    private boolean cloneFromLeader;
    private boolean diverged;
    private boolean prePromoteFailed;
    private long prePromoteReleasedAtMs;
    private Failsafe.Lease failsafeLease;
    private long failsafeUntilMs;
    private boolean failsafeRoundFailed;

    private Builder(LocalState s) {
      name = s.name; dataDir = s.dataDir; cleanShutdown = s.cleanShutdown; sysid = s.sysid; pg = s.pg;
      inRecovery = s.inRecovery; upstream = s.upstream; lsn = s.lsn; timeline = s.timeline; task = s.task;
      crashed = s.crashed; pgDownSinceMs = s.pgDownSinceMs; startAttemptFailed = s.startAttemptFailed;
      wonInitializeRace = s.wonInitializeRace; peers = s.peers; dcsConnected = s.dcsConnected;
      lockConfirmedAtMs = s.lockConfirmedAtMs; sessionTtlMs = s.sessionTtlMs; shuttingDown = s.shuttingDown;
      rewindFailed = s.rewindFailed;
      wallClockMs = s.wallClockMs;
      cloneFromLeader = s.cloneFromLeader;
      diverged = s.diverged;
      prePromoteFailed = s.prePromoteFailed;
      prePromoteReleasedAtMs = s.prePromoteReleasedAtMs;
      failsafeLease = s.failsafeLease;
      failsafeUntilMs = s.failsafeUntilMs;
      failsafeRoundFailed = s.failsafeRoundFailed;
    }

    public Builder dataDir(DataDirState v) { dataDir = v; return this; }
    public Builder cleanShutdown(boolean v) { cleanShutdown = v; return this; }
    public Builder sysid(String v) { sysid = v; return this; }
    public Builder pg(PgRunState v) { pg = v; return this; }
    public Builder inRecovery(Boolean v) { inRecovery = v; return this; }
    public Builder upstream(String v) { upstream = v; return this; }
    public Builder lsn(long v) { lsn = v; return this; }
    public Builder timeline(int v) { timeline = v; return this; }
    public Builder task(Task v) { task = v; return this; }
    public Builder crashed(boolean v) { crashed = v; return this; }
    public Builder pgDownSinceMs(long v) { pgDownSinceMs = v; return this; }
    public Builder startAttemptFailed(boolean v) { startAttemptFailed = v; return this; }
    public Builder wonInitializeRace(boolean v) { wonInitializeRace = v; return this; }
    public Builder peers(Map<String, PeerStatus> v) { peers = v; return this; }
    public Builder dcsConnected(boolean v) { dcsConnected = v; return this; }
    public Builder lockConfirmedAtMs(long v) { lockConfirmedAtMs = v; return this; }
    public Builder sessionTtlMs(long v) { sessionTtlMs = v; return this; }
    public Builder shuttingDown(boolean v) { shuttingDown = v; return this; }
    public Builder rewindFailed(boolean v) { rewindFailed = v; return this; }
    public Builder wallClockMs(long v) { wallClockMs = v; return this; }
    public Builder cloneFromLeader(boolean v) { cloneFromLeader = v; return this; }
    public Builder diverged(boolean v) { diverged = v; return this; }
    public Builder prePromoteFailed(boolean v) { prePromoteFailed = v; return this; }
    public Builder prePromoteReleasedAtMs(long v) { prePromoteReleasedAtMs = v; return this; }
    public Builder failsafeLease(Failsafe.Lease v) { failsafeLease = v; return this; }
    public Builder failsafeUntilMs(long v) { failsafeUntilMs = v; return this; }
    public Builder failsafeRoundFailed(boolean v) { failsafeRoundFailed = v; return this; }

    public LocalState build() {
      return new LocalState(name, dataDir, cleanShutdown, sysid, pg, inRecovery, upstream, lsn, timeline, task,
          crashed, pgDownSinceMs, startAttemptFailed, wonInitializeRace, peers, dcsConnected, lockConfirmedAtMs,
          sessionTtlMs, shuttingDown, rewindFailed, wallClockMs, cloneFromLeader, diverged, prePromoteFailed,
          prePromoteReleasedAtMs, failsafeLease, failsafeUntilMs, failsafeRoundFailed);
    }
  }
}
