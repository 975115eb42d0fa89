package io.pgha.decision;

import io.pgha.config.DynamicConfig;
import io.pgha.decision.Action.StopMode;
import io.pgha.decision.Decision.LeaderDuty;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The HA decision core: given the cluster as ZooKeeper shows it and this member's own state, say what to do next.
 * Pure: no I/O, no clock (time is an argument), no randomness, so a simulation or a table of cases can drive it.
 * The HA loop calls it on every relevant event and every loop_wait, carries out the one action it returns, and calls
 * it again with the outcome; multi-step work (race, promote, rewind, clone) is a sequence of such calls.
 * Rules follow patroni-compat §3, with the differences noted where they are.
 */
public final class HaCore {
  private HaCore() {}

  /** How long a diverged replica's fast stop may take before it becomes immediate (then crash recovery, rewind). */
  public static final long DIVERGED_STOP_ESCALATE_MS = 10_000;

  public static Decision decide(ClusterView seen, LocalState local, DynamicConfig cfg, NodeSettings me, long nowMs) {
    // §10.2: inside a failsafe lease the primary that POSTed us is the leader whenever ZooKeeper shows none
    ClusterView view = Failsafe.effectiveView(seen, local, cfg, nowMs);
    Decision fence = fenceWhenDcsLost(view, local, cfg, nowMs);
    if (fence != null) return fence;
    Decision unproven = leadingUnproven(view, local, cfg, nowMs);
    if (unproven != null) return unproven;
    if (view == null) return Decision.of(new Action.None(), Reason.DCS_UNREACHABLE);
    if (view.hasLeader() && !view.leaderIsMe() && view.leader().equals(me.name())) {
      // Our previous session's key (agent restarted within ttl): never follow, clone or rewind from ourselves. A
      // running primary stays: nobody can promote while the key exists, and once it expires the replicas' race
      // sees this primary alive and leaves the key to it.
      return Decision.of(new Action.None(), Reason.STALE_OWN_KEY);
    }

    if (local.task() != null) return duringTask(view, local, cfg);
    if (local.pg() == PgRunState.STOPPING) return Decision.of(new Action.None(), Reason.PG_STOPPING);
    if (local.pg() == PgRunState.STARTING) return Decision.of(new Action.None(), Reason.PG_STARTING);
    // §3.6.2: the pre_promote script of our promotion failed: no promotion, the key goes back (whatever else holds)
    if (view.leaderIsMe() && local.prePromoteFailed() && !local.isRunningPrimary()) {
      return Decision.of(new Action.ReleaseLeader(), Reason.PRE_PROMOTE_FAILED_RELEASE);
    }

    Decision sysid = checkSystemId(view, local, cfg);
    if (sysid != null) return sysid;

    if (local.pg() == PgRunState.STOPPED) return postgresDown(view, local, cfg, me, nowMs);
    return postgresRunning(view, local, cfg, me, nowMs);
  }

  /**
   * §1.5, §3.15: a primary that cannot confirm its leader key must stop accepting writes before its session can
   * expire on the server, whatever else is going on. The server expires the session no earlier than one session
   * timeout after the last request it got from us; we start stopping after retry_timeout without a confirmation
   * (or half the session timeout if that is shorter) and force the stop one second before the earliest expiry.
   */
  static Decision fenceWhenDcsLost(ClusterView view, LocalState local, DynamicConfig cfg, long nowMs) {
    boolean dcsLost = view == null || !local.dcsConnected();
    if (!dcsLost || cfg.pause()) return null;
    boolean writable = local.isRunningPrimary() || local.task() == Task.PROMOTE;
    if (!writable) {
      // §3.9 offline demotion: a stopped member comes back read-only, so that once ZooKeeper is back its WAL
      // position is visible to the race (a stopped member counts as unreachable, and a less advanced one would win)
      boolean idle = local.task() == null && local.pg() == PgRunState.STOPPED;
      boolean hasData = local.dataDir() == DataDirState.PRIMARY || local.dataDir() == DataDirState.REPLICA;
      if (idle && hasData && !local.shuttingDown() && !local.startAttemptFailed()) {
        return Decision.of(new Action.StartReplica(null), Reason.DCS_UNREACHABLE_READONLY);
      }
      return Decision.of(new Action.None(), Reason.DCS_UNREACHABLE);
    }
    if (local.wonInitializeRace() && local.lockConfirmedAtMs() == 0) {
      return Decision.of(new Action.None(), Reason.DCS_UNREACHABLE); // bootstrapping: no client has it yet
    }
    // §10.2: every listed member accepted our last POST /failsafe and its cover runs (see Failsafe for the timing)
    if (Failsafe.keepsPrimary(local, cfg, nowMs)) return Decision.of(new Action.None(), Reason.FAILSAFE_KEEP_PRIMARY);
    long sessionMs = Math.min(local.sessionTtlMs(), cfg.ttlSeconds() * 1000L);
    long graceMs = Math.min(cfg.retryTimeoutSeconds() * 1000L, sessionMs / 2);
    long unconfirmedMs = nowMs - local.lockConfirmedAtMs();
    if (unconfirmedMs < graceMs) return Decision.of(new Action.None(), Reason.DCS_UNREACHABLE);
    if (local.task() == Task.STOP || local.task() == Task.DEMOTE || local.pg() == PgRunState.STOPPING) {
      return Decision.of(new Action.None(), Reason.PG_STOPPING);
    }
    // the later of the session's bound and an earlier all-accepted failsafe round's cover (never a partial one)
    long escalateAfterMs = Math.max(0, Failsafe.coveredUntilMs(local, sessionMs) - Failsafe.FENCE_MARGIN_MS - nowMs);
    return Decision.of(new Action.Stop(StopMode.FAST, false, Math.max(1, escalateAfterMs)),
        Reason.DCS_UNREACHABLE_DEMOTE);
  }

  /**
   * A view that says we lead although the key has not been proven for longer than the fence's grace is stale: the
   * agent was frozen (a GC pause, SIGSTOP) and the session may have expired without the client knowing yet, or
   * ZooKeeper stopped answering on a connection that looks open. Never act on it: a writable postgres is fenced as
   * if ZooKeeper were lost; anything else waits for a fresh view (a resumed agent once restarted its fenced postgres
   * as a primary here, from a view in which another member had long taken over).
   */
  static Decision leadingUnproven(ClusterView view, LocalState local, DynamicConfig cfg, long nowMs) {
    if (view == null || !view.leaderIsMe() || cfg.pause() || local.lockConfirmedAtMs() <= 0 || local.task() != null) {
      return null; // a task in flight: duringTask stops a primary that lost its key
    }
    long sessionMs = Math.min(local.sessionTtlMs(), cfg.ttlSeconds() * 1000L);
    long graceMs = Math.min(cfg.retryTimeoutSeconds() * 1000L, sessionMs / 2);
    if (nowMs - local.lockConfirmedAtMs() < graceMs) return null;
    if (local.isRunningPrimary()) {
      return fenceWhenDcsLost(view, local.toBuilder().dcsConnected(false).build(), cfg, nowMs);
    }
    return Decision.of(new Action.None(), Reason.LOCK_UNCONFIRMED, nowMs - local.lockConfirmedAtMs());
  }

  /** §3.12: one task at a time; a primary that lost the key mid-task is stopped at once. */
  private static Decision duringTask(ClusterView view, LocalState local, DynamicConfig cfg) {
    Task task = local.task();
    if (cfg.pause()) return Decision.of(new Action.None(), Reason.TASK_IN_PROGRESS, task.text());
    boolean someoneElseLeads = view.hasLeader() && !view.leaderIsMe();
    boolean stopping = task == Task.STOP || task == Task.DEMOTE;
    if (someoneElseLeads && !stopping && (local.isRunningPrimary() || task == Task.PROMOTE)) {
      return Decision.of(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.LOST_LOCK_DURING_TASK, task.text());
    }
    return Decision.of(new Action.None(), Reason.TASK_IN_PROGRESS, task.text());
  }

  /** §3.3 step 10: a data directory of another cluster is never started; the key is given back first. */
  private static Decision checkSystemId(ClusterView view, LocalState local, DynamicConfig cfg) {
    if (!view.initializedWithSysid() || local.sysid() == null || view.initialize().equals(local.sysid())) return null;
    if (view.leaderIsMe()) return Decision.of(new Action.ReleaseLeader(), Reason.SYSID_MISMATCH, local.sysid(),
        view.initialize());
    if (cfg.pause()) return Decision.of(new Action.None(), Reason.SYSID_MISMATCH, local.sysid(), view.initialize());
    return Decision.of(new Action.Fatal(Reason.SYSID_MISMATCH.format(local.sysid(), view.initialize())),
        Reason.SYSID_MISMATCH, local.sysid(), view.initialize());
  }

  private static Decision postgresDown(
      ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me, long nowMs) {
    switch (local.dataDir()) {
      case UNREADABLE:
        return Decision.of(new Action.None(), Reason.DATA_DIR_UNREADABLE);
      case EMPTY:
        return emptyDataDir(view, local, cfg, me);
      default:
        break;
    }
    if (cfg.pause()) {
      // §3.16: in pause the owner keeps the key only while postgres runs as primary
      if (view.leaderIsMe()) return Decision.of(new Action.ReleaseLeader(), Reason.PG_NOT_RUNNING_RELEASE);
      return Decision.of(new Action.None(), Reason.PAUSED, me.name());
    }
    if (view.leaderIsMe()) return ownerWithPostgresDown(view, local, cfg, me, nowMs);
    if (!view.hasLeader()) {
      if (view.initialize() == null && local.dataDir() == DataDirState.PRIMARY && local.sysid() != null) {
        return Decision.of(new Action.WriteInitialize(local.sysid()), Reason.ADOPT_DATA_DIR, local.sysid());
      }
      if (cfg.isStandbyCluster() && !me.nostream()) {
        return Decision.of(new Action.StartReplica(cfg.standbyCluster().upstream()), Reason.STANDBY_FOLLOW_REMOTE);
      }
      return Decision.of(new Action.StartReplica(null), Reason.START_NO_LEADER);
    }
    if (local.dataDir() == DataDirState.PRIMARY) return formerPrimaryRejoins(view, local, me);
    if (local.diverged()) {
      Decision repair = divergedReplicaRejoins(view, local, me);
      if (repair != null) return repair;
    }
    return Decision.of(new Action.StartReplica(followTarget(view, cfg, me)), Reason.START_AS_SECONDARY);
  }

  /** §3.14: bootstrap a new cluster (winner of the initialize race) or clone from the leader. */
  private static Decision emptyDataDir(ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me) {
    if (view.leaderIsMe()) return Decision.of(new Action.ReleaseLeader(), Reason.DATA_DIR_EMPTY_RELEASE);
    if (cfg.pause()) return Decision.of(new Action.None(), Reason.PAUSED, me.name());
    // the watch may not have shown our own initialize key yet: the race result is what counts
    if (local.wonInitializeRace() && (view.bootstrapInProgress() || view.initialize() == null)) {
      if (cfg.isStandbyCluster()) {
        String remote = cfg.standbyCluster().upstream();
        return Decision.of(new Action.BootstrapStandbyLeader(remote), Reason.STANDBY_BOOTSTRAP, remote);
      }
      return Decision.of(new Action.Bootstrap(), Reason.BOOTSTRAP_NEW_CLUSTER);
    }
    if (!view.hasLeader()) {
      if (view.initialize() != null) return Decision.of(new Action.None(), Reason.BOOTSTRAP_WAIT_OTHER);
      // §10.3: a standby cluster that only restores WAL has no primary to clone (only basebackup is implemented)
      if (cfg.isStandbyCluster() && cfg.standbyCluster().host() == null) {
        return Decision.of(new Action.None(), Reason.BOOTSTRAP_WAIT_OTHER);
      }
      if (!me.hasBootstrapSection() || !me.canFailover()) {
        return Decision.of(new Action.None(), Reason.BOOTSTRAP_NO_CONFIG);
      }
      return Decision.of(new Action.RaceInitialize(), Reason.BOOTSTRAP_RACE);
    }
    MemberRecord leader = view.leaderMember();
    if (leader == null || leader.connUrl() == null || !leader.isRunning()) {
      return Decision.of(new Action.None(), Reason.BOOTSTRAP_WAIT_OTHER);
    }
    String cloneSource = cloneSource(view, me, local.cloneFromLeader());
    if (!cloneSource.equals(view.leader())) {
      return Decision.of(new Action.Clone(cloneSource), Reason.CLONE_FROM_REPLICA, cloneSource);
    }
    return Decision.of(new Action.Clone(view.leader()), Reason.CLONE_FROM_LEADER, view.leader());
  }

  /** §3.14: a running {@code clonefrom} member other than the leader (first by name), else the leader. */
  public static String cloneSource(ClusterView view, NodeSettings me, boolean fromLeader) {
    if (fromLeader) return view.leader();
    return view.members().values().stream()
        .filter(m -> m.clonefrom() && m.isRunning() && m.connUrl() != null)
        .map(MemberRecord::name)
        .filter(n -> !n.equals(me.name()) && !n.equals(view.leader()))
        .sorted()
        .findFirst()
        .orElse(view.leader());
  }

  /** §3.10: the key holder's postgres is down: restart it in place, or give the key up. */
  private static Decision ownerWithPostgresDown(
      ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me, long nowMs) {
    boolean peerCanTakeOver = eligiblePeerExists(view, me);
    if (local.startAttemptFailed() && peerCanTakeOver) {
      return Decision.of(new Action.ReleaseLeader(), Reason.START_FAILED_RELEASE);
    }
    if (cfg.isStandbyCluster()) {
      String remote = cfg.standbyCluster().upstream();
      if (local.dataDir() == DataDirState.PRIMARY && cfg.standbyCluster().host() != null) {
        // §10.3 demote-cluster: the former primary follows the remote primary only after pg_rewind from it (or its
        // dry run, with use_pg_rewind off) said it can: its WAL may have gone past the point the remote forked at
        if (local.rewindFailed()) return Decision.of(new Action.None(), Reason.DEMOTE_CLUSTER_REWIND_FAILED, remote);
        if (!local.cleanShutdown()) return Decision.of(new Action.CrashRecovery(), Reason.CRASH_RECOVERY);
        if (me.usePgRewind()) return Decision.of(new Action.Rewind(remote, false), Reason.REWIND, remote);
        return Decision.of(new Action.Rewind(remote, true), Reason.REWIND_CHECK, remote);
      }
      // §10.3: the holder of a standby cluster's key starts as its standby leader, never as a primary
      return Decision.of(new Action.StartReplica(followTarget(view, cfg, me)), Reason.STANDBY_LEADER_START);
    }
    if (local.dataDir() != DataDirState.PRIMARY) {
      return Decision.of(new Action.StartReplica(null), Reason.START_READONLY_OWNER);
    }
    if (cfg.primaryStartTimeoutSeconds() == 0 && peerCanTakeOver) {
      return Decision.of(new Action.ReleaseLeader(), Reason.CRASH_FAILOVER);
    }
    boolean downTooLong = local.pgDownSinceMs() > 0
        && nowMs - local.pgDownSinceMs() > cfg.primaryStartTimeoutSeconds() * 1000L;
    if (downTooLong && peerCanTakeOver) return Decision.of(new Action.ReleaseLeader(), Reason.PRIMARY_START_TIMEOUT);
    return Decision.of(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH);
  }

  /**
   * §3.13: a former primary joins a new leader only after pg_rewind (or a dry run of it when use_pg_rewind is off)
   * said it can; otherwise its data directory is re-cloned. pg_rewind needs a clean shutdown, hence crash recovery.
   */
  private static Decision formerPrimaryRejoins(ClusterView view, LocalState local, NodeSettings me) {
    String leader = view.leader();
    if (local.rewindFailed()) {
      return Decision.of(new Action.WipeDataDir("cannot follow " + leader), Reason.REINIT_AFTER_REWIND, leader);
    }
    return rewindFromLeader(view, local, !me.usePgRewind());
  }

  /**
   * §3.13 for a stopped replica whose WAL forked off the leader's timeline (the HA loop found it so while it ran):
   * pg_rewind when use_pg_rewind is on; otherwise, or when pg_rewind failed, a new clone only when Patroni's
   * remove_data_directory_on_* flags allow it. With neither, Patroni just starts it following (null here), and
   * postgres rejects the stream; the running replica then says why ({@link Reason#DIVERGED_CANNOT_FOLLOW}).
   */
  private static Decision divergedReplicaRejoins(ClusterView view, LocalState local, NodeSettings me) {
    String leader = view.leader();
    if (local.rewindFailed()) {
      if (me.removeDataOnRewindFailure() || me.removeDataOnDivergedTimelines()) {
        return Decision.of(new Action.WipeDataDir("pg_rewind from " + leader + " failed"), Reason.REINIT_AFTER_REWIND,
            leader);
      }
      return Decision.of(new Action.None(), Reason.DIVERGED_REWIND_FAILED, leader);
    }
    if (!me.usePgRewind()) {
      if (me.removeDataOnDivergedTimelines()) {
        return Decision.of(new Action.WipeDataDir("diverged timelines"), Reason.DIVERGED_REINIT);
      }
      return null;
    }
    return rewindFromLeader(view, local, false);
  }

  /** pg_rewind needs a running primary as its source, a cleanly stopped target, and the post-promote checkpoint. */
  private static Decision rewindFromLeader(ClusterView view, LocalState local, boolean dryRunOnly) {
    String leader = view.leader();
    MemberRecord leaderMember = view.leaderMember();
    boolean leaderReady = leaderMember != null && leaderMember.isRunning()
        && ("primary".equals(leaderMember.role()) || "master".equals(leaderMember.role()));
    if (!leaderReady) return Decision.of(new Action.None(), Reason.BOOTSTRAP_WAIT_OTHER);
    if (!local.cleanShutdown()) return Decision.of(new Action.CrashRecovery(), Reason.CRASH_RECOVERY);
    if (leaderMember.checkpointAfterPromotePending()) {
      return Decision.of(new Action.None(), Reason.REWIND_WAIT_CHECKPOINT, leader);
    }
    if (!dryRunOnly) return Decision.of(new Action.Rewind(leader, false), Reason.REWIND, leader);
    return Decision.of(new Action.Rewind(leader, true), Reason.REWIND_CHECK, leader);
  }

  private static Decision postgresRunning(
      ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me, long nowMs) {
    if (local.inRecovery() == null) return Decision.of(new Action.None(), Reason.PG_STATUS_UNKNOWN);
    if (!view.hasLeader() && view.initialize() == null && !local.wonInitializeRace()) {
      if (local.isRunningReplica()) {
        if (cfg.pause()) return Decision.of(new Action.None(), Reason.PAUSED, me.name());
        return Decision.of(new Action.Fatal(Reason.RUNNING_REPLICA_UNINITIALIZED.format()),
            Reason.RUNNING_REPLICA_UNINITIALIZED);
      }
      if (local.sysid() != null) {
        return Decision.of(new Action.WriteInitialize(local.sysid()), Reason.ADOPT_DATA_DIR, local.sysid());
      }
    }
    boolean bootstrapped = local.isRunningPrimary() || cfg.isStandbyCluster() && local.isRunningReplica();
    if (local.wonInitializeRace() && view.bootstrapInProgress() && bootstrapped && local.sysid() != null) {
      return Decision.of(new Action.FinishBootstrap(local.sysid()), Reason.BOOTSTRAP_FINISH);
    }
    if (cfg.pause()) return paused(view, local, cfg, me, nowMs);
    if (!view.hasLeader()) return race(view, local, cfg, me, nowMs);
    if (view.leaderIsMe() && cfg.isStandbyCluster()) return standbyLeader(view, local, cfg, me);
    if (view.leaderIsMe()) {
      if (local.isRunningPrimary()) {
        Decision switchover = pendingSwitchover(view, local, cfg, me);
        if (switchover != null) return switchover;
        return Decision.of(new Action.None(), Reason.LEADER_WITH_LOCK, me.name()).withDuties(leaderDuties(view, local, cfg));
      }
      return Decision.of(new Action.Promote(), Reason.PROMOTE_HAD_LOCK);
    }
    if (local.isRunningPrimary()) {
      return Decision.of(new Action.Stop(StopMode.IMMEDIATE, false, 0),
          cfg.isStandbyCluster() ? Reason.STANDBY_NO_PRIMARY : Reason.DEMOTE_NOT_OWNER);
    }
    if (local.diverged() && local.isRunningReplica()) {
      // §3.13: its WAL forked off the leader's timeline, so postgres rejects the leader's stream: repair it first
      if (me.usePgRewind()) {
        // a bounded fast stop: a standby's fast shutdown once waited its whole pg_ctl_timeout (60 s) after its
        // restartpoint; an immediate stop instead costs only the crash recovery that runs before pg_rewind
        return Decision.of(new Action.Stop(StopMode.FAST, false, DIVERGED_STOP_ESCALATE_MS),
            Reason.DIVERGED_STOP_FOR_REWIND, view.leader());
      }
      if (me.removeDataOnDivergedTimelines()) {
        return Decision.of(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.DIVERGED_REINIT);
      }
    }
    String target = followTarget(view, cfg, me);
    if (!Objects.equals(target, local.upstream())) {
      return Decision.of(new Action.Follow(target), Reason.CHANGE_UPSTREAM, target);
    }
    if (local.diverged()) return Decision.of(new Action.None(), Reason.DIVERGED_CANNOT_FOLLOW, view.leader());
    // a replica keeps the slots of the members that cascade from it (§10.4)
    return Decision.of(new Action.None(), cfg.isStandbyCluster() ? Reason.STANDBY_FOLLOWING : Reason.FOLLOWING,
        me.name(), view.leader())
        .withDuties(cfg.useSlots() ? List.of(new LeaderDuty.SyncSlots()) : List.of());
  }

  /**
   * §10.3: the key holder of a standby cluster. A primary (standby_cluster was just added: demote-cluster) stops,
   * keeping the key, and starts again as the standby leader; a standby re-points at the remote primary; a standby
   * leader hands the key over on a switchover like a primary does. Never a promotion.
   */
  private static Decision standbyLeader(ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me) {
    String remote = cfg.standbyCluster().upstream();
    if (local.isRunningPrimary()) {
      return Decision.of(new Action.Stop(StopMode.FAST, false, 0), Reason.DEMOTE_CLUSTER, remote);
    }
    Decision switchover = pendingSwitchover(view, local, cfg, me);
    if (switchover != null && switchover.action() instanceof Action.DemoteGraceful g) {
      // a standby acknowledged no commit of its own, so nothing waits for the candidate: stop, release the key; the
      // named candidate (or the healthiest member) takes it and follows the remote primary
      String kind = view.failover().isSwitchover() ? "switchover" : "manual failover";
      return Decision.of(new Action.Stop(StopMode.FAST, true, 0), Reason.STANDBY_SWITCHOVER, kind,
          g.candidate() == null ? "the healthiest member" : g.candidate());
    }
    if (switchover != null) return switchover;
    String target = followTarget(view, cfg, me);
    if (!Objects.equals(target, local.upstream())) {
      return Decision.of(new Action.Follow(target), Reason.STANDBY_LEADER_FOLLOW_REMOTE, target);
    }
    return Decision.of(new Action.None(), Reason.STANDBY_LEADER_WITH_LOCK, me.name())
        .withDuties(leaderDuties(view, local, cfg));
  }

  /**
   * §3.8, leader side: a {@code failover} request names this leader (or no leader, for a manual failover). A request
   * scheduled more than loop_wait ahead waits, one more than 1.5 loop_wait late is stale; otherwise the candidate (or,
   * with none named, any member) must be healthy in a probe of its {@code /patroni}, and the leader steps down.
   */
  static Decision pendingSwitchover(ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me) {
    FailoverRequest request = view.failover();
    if (request == null) return null;
    String kind = request.isSwitchover() ? "switchover" : "manual failover";
    if (request.isSwitchover() && !request.leader().equals(me.name())
        || me.name().equals(request.candidate())) {
      return Decision.of(new Action.ClearFailover("not for me"), Reason.SWITCHOVER_NOT_FOR_ME, kind);
    }
    if (request.scheduledAtEpochMs() != null && local.wallClockMs() > 0) {
      long loopWaitMs = cfg.loopWaitSeconds() * 1000L;
      long untilMs = request.scheduledAtEpochMs() - local.wallClockMs();
      String at = java.time.Instant.ofEpochMilli(request.scheduledAtEpochMs()).toString();
      if (untilMs > 0) return Decision.of(new Action.None(), Reason.SWITCHOVER_AWAIT, kind, at);
      if (-untilMs > loopWaitMs * 3 / 2) {
        return Decision.of(new Action.ClearFailover("stale"), Reason.SWITCHOVER_STALE, kind, at);
      }
    }
    if (local.peers() == null) return Decision.of(new Action.ProbePeers(), Reason.SWITCHOVER_PROBE, kind);
    String target = request.candidate();
    boolean eligible = local.peers().values().stream()
        .filter(p -> !p.name().equals(me.name()))
        .filter(p -> target == null || p.name().equals(target))
        .anyMatch(p -> p.reachable() && !p.primary() && !p.nofailover() && p.failoverPriority() > 0
            && (view.optime() == 0 || local.lsn() - p.lsn() <= cfg.maximumLagOnFailoverBytes()));
    if (!eligible) return Decision.of(new Action.ClearFailover("no candidate"), Reason.SWITCHOVER_NO_CANDIDATE, kind);
    return Decision.of(new Action.DemoteGraceful(target), Reason.SWITCHOVER_DEMOTE, kind);
  }

  /**
   * §3.16: nothing automatic; a running primary still takes a free key, a primary that lost its role gives it up. The
   * owner still keeps {@code status}, {@code history} and the slots current, as Patroni does in pause.
   */
  private static Decision paused(ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me, long nowMs) {
    boolean requestedForMe = pausedSwitchoverNames(view, me) && local.isRunningReplica() && me.canFailover()
        && !prePromoteBackoff(local, cfg, nowMs) && Failsafe.mayRace(view, me.name());
    if (view.leaderIsMe() && !local.isRunningPrimary() && cfg.isStandbyCluster()) {
      // §3.6.1(a): a standby leader keeps its key in pause (it is not meant to run as primary)
      return Decision.of(new Action.None(), Reason.PAUSED, me.name()).withDuties(leaderDuties(view, local, cfg));
    }
    if (view.leaderIsMe() && !local.isRunningPrimary()) {
      // §3.6.1(a): the candidate of a switchover done in pause took the key and promotes; anyone else gives it up
      if (requestedForMe) return Decision.of(new Action.Promote(), Reason.PROMOTE_PAUSED_SWITCHOVER);
      return Decision.of(new Action.ReleaseLeader(), Reason.PG_NOT_RUNNING_RELEASE);
    }
    if (!view.hasLeader() && (local.isRunningPrimary() || requestedForMe)) {
      return Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK);
    }
    // §3.16: the one thing an operator may do in pause is a switchover to a named member, now
    if (view.leaderIsMe() && view.failover() != null) {
      FailoverRequest request = view.failover();
      if (request.candidate() == null || request.scheduledAtEpochMs() != null) {
        return Decision.of(new Action.ClearFailover("paused"), Reason.SWITCHOVER_PAUSED_INVALID);
      }
      Decision switchover = pendingSwitchover(view, local, cfg, me);
      if (switchover != null) return switchover;
    }
    // §3.7: in pause a replica still re-points at a new leader (a reload, nothing started or stopped)
    if (view.hasLeader() && !view.leaderIsMe() && local.isRunningReplica()) {
      String target = followTarget(view, cfg, me);
      if (!Objects.equals(target, local.upstream())) {
        return Decision.of(new Action.Follow(target), Reason.CHANGE_UPSTREAM, target);
      }
    }
    Decision none = Decision.of(new Action.None(), Reason.PAUSED, me.name());
    return view.leaderIsMe() ? none.withDuties(leaderDuties(view, local, cfg)) : none;
  }

  /** §3.4: no leader key. A running primary re-takes it; replicas probe their peers and the healthiest races. */
  private static Decision race(ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me, long nowMs) {
    if (local.isRunningPrimary()) {
      if (view.clusterTimeline() > 0 && local.timeline() > 0 && local.timeline() < view.clusterTimeline()) {
        return Decision.of(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.TIMELINE_BEHIND, local.timeline(),
            view.clusterTimeline());
      }
      return Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK);
    }
    // §10.2: while the failsafe key lists members, nobody else may take over (a primary outside ZooKeeper counts on it)
    if (!Failsafe.mayRace(view, me.name())) return Decision.of(new Action.None(), Reason.FAILSAFE_NOT_LISTED);
    // after a running primary's rules (Patroni checks it first, but a writable primary must never sit keyless)
    if (prePromoteBackoff(local, cfg, nowMs)) return Decision.of(new Action.None(), Reason.PRE_PROMOTE_BACKOFF);
    if (!me.canFailover()) return Decision.of(new Action.None(), Reason.NOFAILOVER);
    if (!maySucceedSynchronously(view, cfg, me)) {
      return Decision.of(new Action.None(), Reason.NOT_SYNCHRONOUS, view.sync().leader(), view.sync().standbys());
    }
    if (!namedCandidate(view, me) && !cfg.isStandbyCluster() && behindClusterTimeline(view, local, me)) {
      return Decision.of(new Action.None(), Reason.TIMELINE_BEHIND, local.timeline(), view.clusterTimeline());
    }
    // §3.8: the named candidate of a switchover or manual failover needs no comparison with its peers
    if (namedCandidate(view, me)) return Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK);
    if (local.peers() == null) return Decision.of(new Action.ProbePeers(), Reason.PROBE_PEERS);
    if (isHealthiest(view, local, cfg, me)) return Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK);
    return Decision.of(new Action.None(), Reason.NOT_HEALTHIEST);
  }

  /**
   * §3.5 rule 1: a member that released the key after its pre_promote script failed does not race again for ttl
   * (the script may fence; another member should get the chance, or the operator the time to look).
   */
  static boolean prePromoteBackoff(LocalState local, DynamicConfig cfg, long nowMs) {
    long releasedAtMs = local.prePromoteReleasedAtMs();
    return releasedAtMs > 0 && nowMs - releasedAtMs < cfg.ttlSeconds() * 1000L;
  }

  /**
   * §3.5.7, §3.5.10, §4.6: in synchronous mode only the {@code sync} key's leader and its confirmed standbys may
   * take over, since only they are known to have every acknowledged commit; a manual failover that names a member
   * may pick an asynchronous one (the operator accepted the loss), a switchover may not.
   */
  static boolean maySucceedSynchronously(ClusterView view, DynamicConfig cfg, NodeSettings me) {
    if (quorumActive(view, cfg)) {
      // §4.7: anyone may race on quorum votes, except that a switchover goes only to a listed member (§3.5.7)
      FailoverRequest request = view.failover();
      return request == null || request.leader() == null || view.sync().lists(me.name());
    }
    if (cfg.synchronousMode() != DynamicConfig.SyncMode.ON || view.sync().isEmpty()) return true;
    if (view.sync().mayRace(me.name())) return true;
    FailoverRequest request = view.failover();
    boolean manualFailoverToMe = request != null && request.leader() == null && me.name().equals(request.candidate());
    return manualFailoverToMe;
  }

  /** An immediate switchover or failover request, made in pause, that names me as the candidate. */
  static boolean pausedSwitchoverNames(ClusterView view, NodeSettings me) {
    FailoverRequest request = view.failover();
    return request != null && request.scheduledAtEpochMs() == null && me.name().equals(request.candidate());
  }

  private static boolean namedCandidate(ClusterView view, NodeSettings me) {
    return view.failover() != null && me.name().equals(view.failover().candidate());
  }

  /** §3.5: am I the healthiest member? Several may say yes; the create of the leader znode decides. */
  static boolean isHealthiest(ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me) {
    FailoverRequest request = view.failover();
    boolean manual = request != null && request.candidate() != null && !request.candidate().isEmpty();
    if (manual) {
      if (request.candidate().equals(me.name())) return true;
      PeerStatus candidate = local.peers().get(request.candidate());
      if (candidate != null && candidate.reachable() && !candidate.primary()) return false;
    }
    if (!manual) {
      if (view.optime() > 0 && view.optime() - local.lsn() > cfg.maximumLagOnFailoverBytes()) return false;
      if (cfg.checkTimeline() && !cfg.isStandbyCluster() && (local.timeline() == 0 || local.timeline() < view.clusterTimeline())) return false;
    }
    if (quorumActive(view, cfg)) return hasQuorumVotes(view, local, me);
    boolean syncOn = cfg.synchronousMode() == DynamicConfig.SyncMode.ON && !view.sync().isEmpty();
    for (PeerStatus peer : local.peers().values()) {
      if (peer.name().equals(me.name()) || !peer.reachable() || peer.nofailover()) continue;
      if (peer.primary()) return false;
      // §3.5.10: in synchronous mode only the other synchronous members compete; the old sync leader, if it
      // still answers as a replica, is ignored for its position
      if (syncOn && (!view.sync().mayRace(peer.name()) || peer.name().equals(view.sync().leader()))) continue;
      if (peer.lsn() > local.lsn()) return false;
      if (peer.lsn() == local.lsn() && peer.failoverPriority() > me.failoverPriority()) return false;
    }
    return true;
  }

  /**
   * Quorum commit is in force: mode {@code quorum} with a sync key. pgha also asks for votes when the mode is
   * {@code on} but the key still carries a quorum (the mode was just switched: the voters need not all have every
   * commit until the primary has rewritten the key).
   */
  static boolean quorumActive(ClusterView view, DynamicConfig cfg) {
    if (view.sync().isEmpty()) return false;
    return cfg.synchronousMode() == DynamicConfig.SyncMode.QUORUM
        || cfg.synchronousMode() == DynamicConfig.SyncMode.ON && view.sync().quorum() > 0;
  }

  /**
   * §3.5.11 in quorum mode (Patroni 4's {@code _is_healthiest_node}): any {@code quorum} + 1 of the voters and the
   * sync leader hold every acknowledged commit between them (§4.7), so a candidate that hears {@code sync.quorum}
   * of them, besides itself when it is one, none ahead of it, has every acknowledged commit. A voter counts from 0,
   * anyone else from -1 (it must hear one more). Only listed members are compared; one ahead of me wins, unless it
   * is the old sync leader; a listed one level with me and of higher failover_priority wins too (not the old
   * leader). The old sync leader itself needs no votes when nobody is ahead of it. Unreachable, nofailover
   * (Patroni's {@code failover_limitation}) and not-yet-running (LSN 0) peers give no vote.
   */
  static boolean hasQuorumVotes(ClusterView view, LocalState local, NodeSettings me) {
    SyncState sync = view.sync();
    int votes = sync.lists(me.name()) ? 0 : -1;
    int ahead = 0;
    for (PeerStatus peer : local.peers().values()) {
      if (peer.name().equals(me.name()) || !sync.lists(peer.name())) continue;
      if (!peer.reachable() || peer.nofailover()) continue;
      if (peer.primary()) return false;
      if (peer.lsn() > local.lsn()) {
        ahead++;
        if (!peer.name().equals(sync.leader())) return false;
      } else if (peer.lsn() > 0) {
        boolean higherPriority = peer.lsn() == local.lsn() && peer.failoverPriority() > me.failoverPriority()
            && !peer.name().equals(sync.leader());
        if (higherPriority) return false;
        votes++;
      }
    }
    return votes >= sync.quorum() || ahead == 0 && me.name().equals(sync.leader());
  }

  /**
   * pgha's addition to §3.5: a member whose timeline is behind the cluster's must not promote while another member
   * that may be on the newer timeline still has a member key (it may be starting, or restarting after a stop of the
   * whole cluster). Promoting would fork a second timeline with the same number, and the two histories could never
   * be joined again. With no such member left, the older timeline may win (unless check_timeline forbids it).
   */
  static boolean behindClusterTimeline(ClusterView view, LocalState local, NodeSettings me) {
    int clusterTl = view.clusterTimeline();
    if (clusterTl == 0 || local.timeline() == 0 || local.timeline() >= clusterTl) return false;
    return view.members().values().stream()
        .anyMatch(m -> !m.name().equals(me.name()) && !"uninitialized".equals(m.role())
            && (m.timeline() == null || m.timeline() >= clusterTl));
  }

  /**
   * §3.7 with §10.3: in a standby cluster the key holder, and everyone while there is no key (not paused), follows the
   * remote primary; otherwise as {@link #followTarget(ClusterView, NodeSettings)}.
   */
  public static String followTarget(ClusterView view, DynamicConfig cfg, NodeSettings me) {
    if (me.nostream()) return null;
    if (cfg.isStandbyCluster() && (view.leaderIsMe() || !view.hasLeader() && !cfg.pause())) {
      return cfg.standbyCluster().upstream();
    }
    return followTarget(view, me);
  }

  /** §3.7: nostream streams from nobody; replicatefrom names an existing member; else the leader. */
  public static String followTarget(ClusterView view, NodeSettings me) {
    if (me.nostream()) return null;
    String from = me.replicatefrom();
    if (from != null && !from.equals(me.name()) && view.members().containsKey(from)) return from;
    return view.leader();
  }

  /** A member other than me that could take over: may fail over and is running. */
  static boolean eligiblePeerExists(ClusterView view, NodeSettings me) {
    return view.members().values().stream()
        .anyMatch(m -> !m.name().equals(me.name()) && m.canFailover() && m.isRunning());
  }

  private static List<LeaderDuty> leaderDuties(ClusterView view, LocalState local, DynamicConfig cfg) {
    List<LeaderDuty> duties = new ArrayList<>();
    if (!view.initializedWithSysid() && local.sysid() != null) duties.add(new LeaderDuty.WriteInitialize(local.sysid()));
    if (view.config() == null && view.configError() == null) duties.add(new LeaderDuty.WriteConfig());
    if (local.timeline() > 0 && view.clusterTimeline() != local.timeline() && !cfg.isStandbyCluster()) {
      duties.add(new LeaderDuty.WriteHistory()); // a standby leader's timeline is the remote primary's business
    }
    if (cfg.useSlots()) duties.add(new LeaderDuty.SyncSlots());
    var failsafe = Failsafe.topologyToWrite(view, cfg, local.name());
    if (failsafe != null) duties.add(new LeaderDuty.WriteFailsafe(failsafe));
    return duties;
  }
}
