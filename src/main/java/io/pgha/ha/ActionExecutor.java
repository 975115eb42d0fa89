package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.config.HostPort;
import io.pgha.config.StandbyCluster;
import io.pgha.decision.Action;
import io.pgha.decision.DataDirState;
import io.pgha.decision.Decision;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.PgRunState;
import io.pgha.decision.Reason;
import io.pgha.decision.Switchover;
import io.pgha.decision.Task;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.Dcs;
import io.pgha.ha.port.Postgres;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;

/**
 * Carries out the action of a decision, one method per {@link Action}, through the ports only; outcomes go back
 * into the loop's state (and the next cycle reads them). Also the leader's duties of a cycle and the parameters'
 * reload. Runs on the loop's thread.
 */
final class ActionExecutor {
  /**
   * After a re-point, how often and how long to look for the walreceiver streaming, so /patroni says so at once. A
   * poll, because the walreceiver coming up has no event we can wait for.
   */
  private static final long STREAMING_POLL_MS = 100;
  private static final long STREAMING_WATCH_MS = 10_000;

  private final HaLoop loop;
  private final Dcs dcs;
  private final Postgres pg;
  private final Clock clock;

  ActionExecutor(HaLoop loop) {
    this.loop = loop;
    this.dcs = loop.dcs;
    this.pg = loop.pg;
    this.clock = loop.clock;
  }

  CompletableFuture<Void> execute(Decision d) {
    Action a = d.action();
    if (a instanceof Action.None) return Async.done();
    if (a instanceof Action.RaceInitialize) return raceInitialize();
    if (a instanceof Action.Bootstrap) {
      loop.callbacks.bootstrapStarted();
      return loop.runTask(Task.BOOTSTRAP, bootstrap());
    }
    if (a instanceof Action.BootstrapStandbyLeader b) {
      loop.callbacks.bootstrapStarted();
      return loop.runTask(Task.BOOTSTRAP, bootstrapStandbyLeader(b.remote()));
    }
    if (a instanceof Action.FinishBootstrap fb) return finishBootstrap(fb.sysid());
    if (a instanceof Action.WriteInitialize wi) {
      return Async.of(dcs.createInitialize(wi.sysid())).thenRun(loop::again);
    }
    if (a instanceof Action.Clone c) return cloneFrom(c.source());
    if (a instanceof Action.ProbePeers) return probePeers();
    if (a instanceof Action.AcquireLeader) return acquireLeader();
    if (a instanceof Action.ReleaseLeader) {
      if (d.reason() == Reason.START_FAILED_RELEASE) loop.callbacks.gaveUpAfterFailedStart();
      if (d.reason() == Reason.PRE_PROMOTE_FAILED_RELEASE) {
        // §3.5 rule 1: from now on, no race for ttl
        return releaseLeaderKey().thenRun(() -> {
          loop.local(loop.local().toBuilder().prePromoteFailed(false)
              .prePromoteReleasedAtMs(Math.max(1, clock.monotonicMs())).build());
          loop.again();
        });
      }
      return releaseLeaderKey().thenRun(loop::again);
    }
    if (a instanceof Action.Promote) return promote();
    if (a instanceof Action.StartPrimary) return startPostgres(null, false);
    if (a instanceof Action.StartReplica sr) return startPostgres(sr.upstream(), true);
    if (a instanceof Action.Follow f) return follow(f.upstream());
    if (a instanceof Action.Stop s) return stop(s);
    if (a instanceof Action.DemoteGraceful g) return loop.demotion.demoteGraceful(g.candidate());
    if (a instanceof Action.HandOver h) return loop.demotion.handOver(h);
    if (a instanceof Action.StayLeader sl) return loop.demotion.stayLeader(sl);
    if (a instanceof Action.ClearFailover) return Async.of(dcs.clearFailover()).thenRun(loop::again);
    if (a instanceof Action.CrashRecovery) {
      return loop.runTask(Task.CRASH_RECOVERY, pg.crashRecovery(loop.parameters()));
    }
    if (a instanceof Action.Rewind r) return rewind(r.source(), r.dryRunOnly());
    if (a instanceof Action.WipeDataDir) {
      return loop.runTask(Task.CLONE, pg.wipeDataDir().thenRun(() -> loop.local(loop.local().toBuilder()
          .dataDir(DataDirState.EMPTY).rewindFailed(false).diverged(false).build())));
    }
    if (a instanceof Action.CancelBootstrap) return Async.of(dcs.deleteInitialize());
    if (a instanceof Action.Fatal f) {
      LOG.error("FATAL: {}", f.why());
      clock.after(10, () -> loop.fatalExit(f.why()));
      return Async.done();
    }
    return Async.failed("unknown action " + a);
  }

  // ---- bootstrap ----

  private CompletableFuture<Void> raceInitialize() {
    return Async.of(dcs.raceInitialize()).thenAccept(won -> {
      if (won) loop.local(loop.local().toBuilder().wonInitializeRace(true).build());
      else LOG.info("failed to acquire initialize lock");
      loop.again();
    });
  }

  private CompletableFuture<Void> bootstrap() {
    return Async.of(pg.initdb())
        .thenCompose(v -> loop.startPostgres(null))
        .thenCompose(ready -> ready ? Async.done() : Async.<Void>failed("postgres did not start"))
        .thenCompose(v -> pg.createBootstrapRoles())
        .thenCompose(v -> pg.postBootstrapScript())
        .thenRun(() -> loop.local(loop.local().toBuilder().pg(PgRunState.RUNNING).inRecovery(false)
            .dataDir(DataDirState.PRIMARY).build()));
  }

  /**
   * §10.3: a standby cluster's first member clones the remote primary and starts as its standby; no roles are made
   * (they come with the clone) and no post_bootstrap script runs (Patroni pretends it ran).
   */
  private CompletableFuture<Void> bootstrapStandbyLeader(String remote) {
    HostPort source = loop.memberAddress(remote);
    if (source == null) return Async.failed("standby_cluster has no host to clone from");
    return Async.of(pg.basebackup(source))
        .thenRun(() -> loop.local(loop.local().toBuilder().dataDir(DataDirState.REPLICA).build()))
        .thenCompose(v -> startWork(remote, true))
        .thenCompose(v -> loop.local().pg() == PgRunState.RUNNING ? Async.done()
            : Async.<Void>failed("postgres did not start"))
        .thenRun(() -> loop.local(loop.local().toBuilder().inRecovery(true).build()));
  }

  private CompletableFuture<Void> finishBootstrap(String sysid) {
    String dcsConfig = loop.config().bootstrap().dcs().toString();
    return Async.of(dcs.writeInitialize(sysid))
        .thenCompose(v -> dcs.createConfig(dcsConfig))
        .thenCompose(v -> dcs.acquireLeader())
        .thenAccept(won -> {
          loop.local(loop.local().toBuilder().wonInitializeRace(false).build());
          if (won) tookKey();
          loop.callbacks.bootstrapFinished();
          LOG.info("initialized a new cluster (system ID {}){}", sysid, won ? "" : ": leader key taken");
          loop.again();
        });
  }

  /** §3.14: a failed bootstrap gives the initialize key back, keeps the data for inspection and stops the agent. */
  void cancelBootstrap(String why) {
    loop.stopPostgres(Action.StopMode.IMMEDIATE, 0)
        .thenCompose(v -> dcs.deleteInitialize())
        .whenComplete((v, e) -> pg.moveDataDirAside().whenComplete((x, err) -> loop.fatalExit(
            ((Action.Fatal) io.pgha.decision.TaskFailure.afterBootstrapCancelled(why).action()).why())));
  }

  // ---- data directory ----

  private CompletableFuture<Void> cloneFrom(String member) {
    HostPort source = loop.memberAddress(member);
    if (source == null) return Async.failed("member " + member + " has no conn_url");
    return loop.runTask(Task.CLONE, pg.basebackup(source).thenRun(() -> loop.local(loop.local().toBuilder()
        .dataDir(DataDirState.REPLICA).cloneFromLeader(false).diverged(false).build())));
  }

  private CompletableFuture<Void> rewind(String member, boolean dryRunOnly) {
    HostPort source = loop.memberAddress(member);
    if (source == null) return Async.failed("member " + member + " has no conn_url");
    return loop.runTask(Task.REWIND, pg.rewind(source, dryRunOnly).handle((v, e) -> {
      if (e == null) {
        loop.local(loop.local().toBuilder().dataDir(DataDirState.REPLICA).rewindFailed(false).diverged(false)
            .build());
      } else {
        LOG.warn("{}", Async.message(e));
        loop.local(loop.local().toBuilder().rewindFailed(true).build());
      }
      return null;
    }));
  }

  // ---- the leader key ----

  private CompletableFuture<Void> probePeers() {
    List<MemberRecord> others = loop.view().members().values().stream()
        .filter(m -> !m.name().equals(loop.me())).toList();
    return Async.of(loop.peers.probe(others)).thenAccept(result -> {
      loop.local(loop.local().toBuilder().peers(result).build());
      loop.again();
    });
  }

  private CompletableFuture<Void> acquireLeader() {
    return loop.duties.slotsBeforeTakeover("leader race").thenCompose(x -> loop.failsafe.acquire(dcs::acquireLeader))
        .thenCompose(won -> {
      loop.local(loop.local().toBuilder().peers(null).build());
      LOG.info(won ? "acquired session lock as a leader" : "leader race lost");
      // the watch confirms it a moment later; deciding on the stale view would only race again
      if (won) tookKey();
      loop.again();
      // in pause the request stays until the new owner has promoted (§3.4: Patroni rewrites it; pgha keeps it)
      if (won && Switchover.clearRequestAfterWin(loop.view().failover(), loop.me(), loop.dynamic().pause())) {
        return dcs.clearFailover();
      }
      return Async.done();
    });
  }

  private void tookKey() {
    // a pre_promote failure belongs to the key it was run for
    loop.update(b -> b.view(loop.view().withLeader(loop.me(), true)).keyReleased(false)
        .local(loop.local().toBuilder().prePromoteFailed(false).build()));
    loop.updateGuard("leader key taken");
  }

  /**
   * Deletes our leader key and stops believing we hold it. The watch event that says the key is gone may come only
   * after the next decision, which would then still see us as the leader and start postgres as a primary beside the
   * new one: after a switchover the old primary once restarted writable for ~0.2 s and lost the writes it took.
   */
  CompletableFuture<Void> releaseLeaderKey() {
    // postgres is down (or a replica) by now: disarm before the key goes, never after someone else may hold it
    loop.updateGuard("releasing the leader key");
    return Async.of(dcs.releaseLeader()).thenRun(() -> loop.update(b -> {
      b.keyReleased(true).lastSlots(null);
      var view = loop.view();
      if (view != null && view.leaderIsMe()) b.view(view.withLeader(null, false));
      return b;
    }));
  }

  // ---- postgres ----

  /**
   * §3.6.2: the {@code pre_promote} script first (Patroni runs it before anything else of the promotion); when it
   * fails, postgres stays a replica and the next decision releases the key. Bounded by ttl: Patroni waits without
   * limit, but a member that holds the key and cannot promote for longer leaves the cluster without a writer.
   */
  private CompletableFuture<Void> promote() {
    long limitMs = loop.dynamic().ttlSeconds() * 1000L;
    return loop.runTask(Task.PROMOTE, Async.of(loop.hooks.prePromote(limitMs)).thenCompose(ok -> {
      // the script may have run for a while: promote only if the key is still ours (Patroni: "promote cancelled")
      if (ok && (loop.local().shuttingDown() || loop.view() == null || !loop.view().leaderIsMe())) {
        LOG.warn("promote cancelled: the leader key is no longer ours or the agent is stopping");
        return Async.done();
      }
      if (ok) return promoteNow();
      LOG.warn("pre_promote failed: not promoting; the leader key will be released");
      loop.local(loop.local().toBuilder().prePromoteFailed(true).build());
      return Async.done();
    }));
  }

  private CompletableFuture<Void> promoteNow() {
    // normally made before the key was taken (slotsBeforeTakeover); a no-op then
    CompletableFuture<Void> slotsFirst = loop.dynamic().useSlots() ? loop.duties.syncSlots().exceptionally(e -> {
      LOG.warn("creating replication slots before promote: {}", Async.message(e));
      return null;
    }) : Async.done();
    return slotsFirst.thenCompose(x -> loop.synchronous.claimBeforePromote())
        .thenCompose(x -> pg.promote())
        .thenRun(() -> {
          loop.local(loop.local().toBuilder().inRecovery(false).dataDir(DataDirState.PRIMARY).upstream(null)
              .crashed(false).build());
          LOG.info("promoted self to leader: postgres accepts writes");
          loop.callbacks.promoted();
          countLeaderChange();
          checkpointAfterPromote();
        })
        .thenCompose(v -> loop.dynamic().useSlots() ? Async.ignoreFailure(loop.duties.syncSlots()) : Async.done());
  }

  /** Only the member that promotes counts the failover or switchover, so a sum over the cluster counts each once. */
  private void countLeaderChange() {
    long nowMs = clock.wallMs();
    LoopState s = loop.state();
    if (s.switchoverRequestedAtMs() > 0) {
      loop.reporter.switchover(java.time.Duration.ofMillis(nowMs - s.switchoverRequestedAtMs()));
    } else if (s.leaderLostAtMs() > 0) {
      loop.reporter.failover(java.time.Duration.ofMillis(nowMs - s.leaderLostAtMs()));
    }
    loop.update(b -> b.switchoverRequestedAtMs(0).leaderLostAtMs(0));
  }

  /**
   * pg_control shows the new timeline only after the first checkpoint following a promotion; until then a member
   * that rewinds from us would compute the wrong divergence point. Like Patroni, publish
   * {@code checkpoint_after_promote: false} until that checkpoint is done.
   */
  private void checkpointAfterPromote() {
    loop.update(b -> b.checkpointPending(true));
    loop.publishMember();
    pg.checkpoint().whenComplete((v, e) -> {
      if (e != null) LOG.warn("checkpoint after promote failed: {}", Async.message(e));
      else LOG.info("checkpoint after promote finished");
      loop.update(b -> b.checkpointPending(false));
      loop.publishMember();
    });
  }

  private CompletableFuture<Void> follow(String upstream) {
    Postgres.Recovery recovery = loop.recoveryFor(upstream);
    // a leader whose member key is missing for a moment has no address: following it would write no
    // primary_conninfo yet record it as our upstream, and the core would never ask again (simulation, seed 1050)
    if (upstream != null && !reachable(upstream, recovery)) {
      return Async.failed("cannot follow " + upstream + " yet: its member key has no conn_url");
    }
    return Async.of(pg.writeConfig(loop.parameters(), recovery))
        .thenCompose(v -> pg.reload())
        .thenRun(() -> {
          loop.local(loop.local().toBuilder().upstream(upstream).build());
          loop.callbacks.reloaded();
          watchStreaming();
        });
  }

  /** A member needs its address; a standby cluster's remote primary its address or a restore_command (§10.3). */
  private static boolean reachable(String upstream, Postgres.Recovery recovery) {
    return recovery.host() != null || StandbyCluster.isRemote(upstream) && recovery.hasSource();
  }

  private CompletableFuture<Void> stop(Action.Stop s) {
    loop.local(loop.local().toBuilder().pg(PgRunState.STOPPING).build());
    loop.publishStatus();
    boolean signalled = pg.postmasterAlive();
    CompletableFuture<Void> stop = loop.stopPostgres(s.mode(), s.escalateAfterMs())
        .thenRun(() -> loop.callbacks.stopped(signalled));
    if (s.releaseKey()) stop = stop.thenCompose(v -> releaseLeaderKey());
    return loop.runTask(Task.STOP, stop.thenRun(() -> loop.local(loop.local().toBuilder().pg(PgRunState.STOPPED)
        .crashed(false).inRecovery(null).build())));
  }

  private CompletableFuture<Void> startPostgres(String upstream, boolean asReplica) {
    return loop.runTask(Task.START, startWork(upstream, asReplica));
  }

  /** Starts postgres and records the outcome, for a task of its own or as the last step of another. */
  CompletableFuture<Void> startWork(String upstream, boolean asReplica) {
    Postgres.Recovery recovery = asReplica ? loop.recoveryFor(upstream) : null;
    // no address for the upstream (its member key is missing for a moment): start without one and record none, so
    // that the core sees we follow nobody and re-points us once the key is back (simulation, seed 1050)
    String recordedUpstream = asReplica && reachable(upstream, recovery) ? upstream : null;
    loop.callbacks.starting(asReplica ? Callbacks.REPLICA : Callbacks.PRIMARY);
    loop.local(loop.local().toBuilder().pg(PgRunState.STARTING).upstream(recordedUpstream)
        .startAttemptFailed(false).build());
    return Async.of(loop.startPostgres(recovery)).handle((ready, e) -> {
      if (e == null) {
        loop.local(loop.local().toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING).crashed(false)
            .pgDownSinceMs(0).build());
        loop.pendingRestart.restarted();
        if (recovery != null && recovery.host() != null) watchStreaming();
        return Async.done();
      }
      loop.local(loop.local().toBuilder().pg(PgRunState.STOPPED).startAttemptFailed(true).build());
      return CompletableFuture.<Void>failedFuture(Async.cause(e));
    }).thenCompose(f -> f);
  }

  // ---- the parameters ----

  /**
   * §8.7: a change of the parameters (from {@code config}, or synchronous_standby_names) reaches the running postgres
   * at once: postgresql.conf is rewritten and reloaded, and what only a restart applies is reported a moment later
   * as {@code pending_restart}. postgres is never restarted for it: that is the operator's call.
   */
  CompletableFuture<Void> applyConfig() {
    var local = loop.local();
    if (local.shuttingDown() || local.task() != null || local.pg() != PgRunState.RUNNING
        || loop.state().pgStatus() == null) {
      return Async.done();
    }
    Map<String, String> params = loop.parameters();
    Postgres.Written written = pg.lastWritten();
    Postgres.Recovery recovery = local.isRunningPrimary() ? null : loop.recoveryFor(local.upstream());
    // the recovery settings are the Follow and start actions' business (after a promotion they are inert)
    boolean sameHba = written != null && written.pgHbaCurrent();
    if (written != null && written.params().equals(params) && sameHba) return Async.done();
    Set<String> changed = new TreeSet<>();
    if (written == null) {
      changed.add("(all: first write by this agent)");
    } else {
      if (!sameHba) changed.add("pg_hba");
      params.forEach((k, v) -> { if (!v.equals(written.params().get(k))) changed.add(k); });
      written.params().keySet().stream().filter(k -> !params.containsKey(k)).forEach(changed::add);
    }
    LOG.info("ha.config cycle={} reloading postgres: changed {}", loop.cycle(), changed);
    return rewriteAndReload(params, recovery);
  }

  /** postgresql.conf written and reloaded; then on_reload, and a look at what waits for a restart. */
  CompletableFuture<Void> rewriteAndReload(Map<String, String> params, Postgres.Recovery recovery) {
    return Async.of(pg.writeConfig(params, recovery))
        .thenCompose(v -> pg.reload())
        .thenRun(() -> {
          loop.callbacks.reloaded();
          loop.pendingRestart.checkAfterReload();
        });
  }

  /**
   * After a re-point or a start as a replica the walreceiver connects within moments: report {@code streaming} as
   * soon as it does (a switchover needs a streaming candidate), not a loop_wait later.
   */
  void watchStreaming() {
    if (loop.state().streamingTimer() != null) loop.state().streamingTimer().cancel();
    long watch = loop.state().streamingWatch() + 1;
    long deadline = clock.monotonicMs() + STREAMING_WATCH_MS;
    Clock.Timer timer = clock.after(STREAMING_POLL_MS, () -> lookForStreaming(watch, deadline));
    loop.update(b -> b.streamingWatch(watch).streamingTimer(timer));
  }

  private void lookForStreaming(long watch, long deadline) {
    loop.update(b -> b.streamingTimer(null));
    if (watch != loop.state().streamingWatch() || loop.local().upstream() == null || loop.local().shuttingDown()
        || clock.monotonicMs() > deadline || !pg.postmasterAlive()) {
      return;
    }
    pg.status().whenComplete((status, e) -> {
      if (watch != loop.state().streamingWatch()) return;
      if (e == null && "streaming".equals(status.walReceiverStatus())) {
        loop.runCycle("walreceiver streaming");
      } else {
        Clock.Timer timer = clock.after(STREAMING_POLL_MS, () -> lookForStreaming(watch, deadline));
        loop.update(b -> b.streamingTimer(timer));
      }
    });
  }
}
