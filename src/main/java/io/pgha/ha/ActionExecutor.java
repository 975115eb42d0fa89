package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.config.DynamicConfig;
import io.pgha.config.HostPort;
import io.pgha.decision.Action;
import io.pgha.decision.DataDirState;
import io.pgha.decision.Decision;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.PgRunState;
import io.pgha.decision.Reason;
import io.pgha.decision.ReplicationSlots;
import io.pgha.decision.Task;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.Dcs;
import io.pgha.ha.port.Postgres;
import io.pgha.postgres.Lsn;
import io.pgha.postgres.SlotNames;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
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
  /** How long a switchover waits for its candidate to receive the old primary's final WAL. */
  static final long SWITCHOVER_CATCH_UP_MS = 5000;
  /**
   * How often a switchover asks its candidate for its received WAL position. A poll, because that position is a
   * remote postgres's and no event tells us it moved.
   */
  private static final long SWITCHOVER_POLL_MS = 20;
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
    if (a instanceof Action.FinishBootstrap fb) return finishBootstrap(fb.sysid());
    if (a instanceof Action.WriteInitialize wi) {
      return Async.of(dcs.createInitialize(wi.sysid())).thenRun(loop::again);
    }
    if (a instanceof Action.Clone c) return cloneFrom(c.source());
    if (a instanceof Action.ProbePeers) return probePeers();
    if (a instanceof Action.AcquireLeader) return acquireLeader();
    if (a instanceof Action.ReleaseLeader) {
      if (d.reason() == Reason.START_FAILED_RELEASE) loop.callbacks.gaveUpAfterFailedStart();
      return releaseLeaderKey().thenRun(loop::again);
    }
    if (a instanceof Action.Promote) return promote();
    if (a instanceof Action.StartPrimary) return startPostgres(null, false);
    if (a instanceof Action.StartReplica sr) return startPostgres(sr.upstream(), true);
    if (a instanceof Action.Follow f) return follow(f.upstream());
    if (a instanceof Action.Stop s) return stop(s);
    if (a instanceof Action.DemoteGraceful g) return demoteGraceful(g.candidate());
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
        .thenCompose(v -> pg.start(loop.parameters(), null))
        .thenCompose(ready -> ready ? Async.done() : Async.<Void>failed("postgres did not start"))
        .thenCompose(v -> pg.createBootstrapRoles())
        .thenCompose(v -> pg.postBootstrapScript())
        .thenRun(() -> loop.local(loop.local().toBuilder().pg(PgRunState.RUNNING).inRecovery(false)
            .dataDir(DataDirState.PRIMARY).build()));
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
    Async.of(pg.stop(Action.StopMode.IMMEDIATE, 0))
        .thenCompose(v -> dcs.deleteInitialize())
        .whenComplete((v, e) -> pg.moveDataDirAside().whenComplete((x, err) -> loop.fatalExit("bootstrap failed: "
            + why)));
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
    return slotsBeforeTakeover("leader race").thenCompose(x -> dcs.acquireLeader()).thenCompose(won -> {
      loop.local(loop.local().toBuilder().peers(null).build());
      LOG.info(won ? "acquired session lock as a leader" : "leader race lost");
      // the watch confirms it a moment later; deciding on the stale view would only race again
      if (won) tookKey();
      loop.again();
      // in pause the request stays until the new owner has promoted (§3.4: Patroni rewrites it; pgha keeps it)
      var view = loop.view();
      boolean promotingOnRequest = loop.dynamic().pause() && view.failover() != null
          && loop.me().equals(view.failover().candidate());
      if (won && view.failover() != null && !promotingOnRequest) return dcs.clearFailover();
      return Async.done();
    });
  }

  private void tookKey() {
    loop.update(b -> b.view(loop.view().withLeader(loop.me(), true)).keyReleased(false));
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

  private CompletableFuture<Void> promote() {
    // normally made before the key was taken (slotsBeforeTakeover); a no-op then
    CompletableFuture<Void> slotsFirst = loop.dynamic().useSlots() ? syncSlots().exceptionally(e -> {
      LOG.warn("creating replication slots before promote: {}", Async.message(e));
      return null;
    }) : Async.done();
    return loop.runTask(Task.PROMOTE, slotsFirst.thenCompose(x -> loop.synchronous.claimBeforePromote())
        .thenCompose(x -> pg.promote())
        .thenRun(() -> {
          loop.local(loop.local().toBuilder().inRecovery(false).dataDir(DataDirState.PRIMARY).upstream(null)
              .crashed(false).build());
          LOG.info("promoted self to leader: postgres accepts writes");
          loop.callbacks.promoted();
          countLeaderChange();
          checkpointAfterPromote();
        })
        .thenCompose(v -> loop.dynamic().useSlots() ? Async.ignoreFailure(syncSlots()) : Async.done()));
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
    return Async.of(pg.writeConfig(loop.parameters(), loop.recoveryFor(upstream)))
        .thenCompose(v -> pg.reload())
        .thenRun(() -> {
          loop.local(loop.local().toBuilder().upstream(upstream).build());
          loop.callbacks.reloaded();
          watchStreaming();
        });
  }

  private CompletableFuture<Void> stop(Action.Stop s) {
    loop.local(loop.local().toBuilder().pg(PgRunState.STOPPING).build());
    loop.publishStatus();
    boolean signalled = pg.postmasterAlive();
    CompletableFuture<Void> stop = Async.of(pg.stop(s.mode(), s.escalateAfterMs()))
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
    loop.callbacks.starting(asReplica ? Callbacks.REPLICA : Callbacks.PRIMARY);
    loop.local(loop.local().toBuilder().pg(PgRunState.STARTING).upstream(asReplica ? upstream : null)
        .startAttemptFailed(false).build());
    return Async.of(pg.start(loop.parameters(), recovery)).handle((ready, e) -> {
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

  // ---- the switchover ----

  /**
   * §3.8 graceful demotion: a checkpoint first (so the fast stop is quick), then the fast stop, the final WAL position
   * in {@code status}, and the key released; the candidate takes it at once (its race sees the request name it).
   */
  private CompletableFuture<Void> demoteGraceful(String candidate) {
    loop.local(loop.local().toBuilder().pg(PgRunState.STOPPING).build());
    long lsnBeforeStop = loop.local().lsn();
    CompletableFuture<Void> demote = Async.ignoreFailure(pg.checkpoint())
        .thenCompose(v -> {
          loop.update(b -> b.pgStatus(null));
          loop.publishStatus();
          boolean signalled = pg.postmasterAlive();
          return pg.stop(Action.StopMode.FAST, 0).thenRun(() -> loop.callbacks.stopped(signalled));
        })
        .thenCompose(v -> pg.inspectDataDir())
        .thenCompose(info -> {
          long finalLsn = Math.max(info.latestCheckpointLsn(), lsnBeforeStop);
          long deadlineMs = clock.monotonicMs() + SWITCHOVER_CATCH_UP_MS;
          return awaitPeerReceived(candidate, finalLsn, deadlineMs)
              .thenCompose(received -> switchoverAfterStop(candidate, finalLsn, received));
        });
    return loop.runTask(Task.DEMOTE, demote);
  }

  /**
   * The switchover's choice once postgres is down (the core's Switchover.afterStop once it exists): hand the key
   * over to a candidate that received everything, else stay the leader.
   */
  private CompletableFuture<Void> switchoverAfterStop(String candidate, long finalLsn, boolean candidateReceived) {
    if (!candidateReceived) return stayLeader(candidate, finalLsn);
    return handOver(candidate, finalLsn).thenCompose(x -> rejoinAfterPausedHandOver(candidate));
  }

  /**
   * A planned switchover loses nothing: the key goes only to a member that has received our shutdown checkpoint,
   * i.e. every transaction we acknowledged. (Right after a promotion, say, a candidate may not stream yet.)
   */
  private CompletableFuture<Boolean> awaitPeerReceived(String candidate, long finalLsn, long deadlineMs) {
    List<MemberRecord> others = loop.view().members().values().stream()
        .filter(m -> !m.name().equals(loop.me()) && (candidate == null || m.name().equals(candidate)))
        .toList();
    List<CompletableFuture<Long>> positions = new ArrayList<>();
    for (MemberRecord peer : others) {
      HostPort address = loop.memberAddress(peer.name());
      if (address == null || !peer.canFailover()) continue;
      positions.add(Async.of(pg.receivedLsn(address)).exceptionally(e -> 0L));
    }
    return Async.join(new ArrayList<>(positions)).handle((x, e) -> null).thenCompose(ignored -> {
      boolean caughtUp = positions.stream().anyMatch(f -> !f.isCompletedExceptionally() && f.join() > finalLsn);
      if (caughtUp) return CompletableFuture.completedFuture(true);
      if (clock.monotonicMs() > deadlineMs) return CompletableFuture.completedFuture(false);
      CompletableFuture<Boolean> later = new CompletableFuture<>();
      clock.after(SWITCHOVER_POLL_MS, () -> awaitPeerReceived(candidate, finalLsn, deadlineMs)
          .whenComplete((r, err) -> {
            if (err != null) later.completeExceptionally(err);
            else later.complete(r);
          }));
      return later;
    });
  }

  private CompletableFuture<Void> handOver(String candidate, long finalLsn) {
    return Async.ignoreFailure(dcs.writeStatus(finalLsn))
        .thenCompose(v -> releaseLeaderKey())
        .thenRun(() -> {
          loop.local(loop.local().toBuilder().pg(PgRunState.STOPPED).inRecovery(null).build());
          LOG.info("switchover: released the leader key{} at WAL position {}",
              candidate == null ? "" : " for " + candidate, finalLsn);
        });
  }

  /**
   * In pause nothing starts postgres automatically, so the demoted primary of a switchover done in pause starts
   * again as a replica of the candidate itself, as Patroni's graceful demotion does.
   */
  private CompletableFuture<Void> rejoinAfterPausedHandOver(String candidate) {
    if (!loop.dynamic().pause() || candidate == null) return Async.done();
    LOG.info("ha.decision cycle={} action=StartReplica reason=SWITCHOVER_DEMOTE msg=\"paused: starting again as a"
        + " replica of {}\"", loop.cycle(), candidate);
    return Async.of(pg.start(loop.parameters(), loop.recoveryFor(candidate))).thenAccept(ready ->
        loop.local(loop.local().toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING).upstream(candidate)
            .inRecovery(true).dataDir(DataDirState.REPLICA).build()));
  }

  /** The candidate did not catch up: keep the key, start again as primary, and give the request up. */
  private CompletableFuture<Void> stayLeader(String candidate, long finalLsn) {
    LOG.warn("ha.decision cycle={} action=StartPrimary reason=SWITCHOVER_CANDIDATE_BEHIND msg=\"switchover: {} did"
        + " not receive WAL position {} within {} ms: staying the leader\"", loop.cycle(),
        candidate == null ? "no member" : candidate, finalLsn, SWITCHOVER_CATCH_UP_MS);
    loop.callbacks.starting(Callbacks.PRIMARY);
    return Async.of(pg.start(loop.parameters(), null))
        .thenAccept(ready -> loop.local(loop.local().toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING)
            .build()))
        .thenCompose(v -> dcs.clearFailover());
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

  // ---- leader duties ----

  CompletableFuture<Void> performDuties(Decision d) {
    var view = loop.view();
    boolean leading = d.reason() == Reason.LEADER_WITH_LOCK || d.reason() == Reason.PAUSED && view.leaderIsMe();
    if (!leading && d.duties().isEmpty()) return Async.done();
    List<CompletableFuture<?>> work = new ArrayList<>();
    for (Decision.LeaderDuty duty : d.duties()) {
      if (duty instanceof Decision.LeaderDuty.WriteInitialize wi) {
        work.add(Async.of(dcs.writeInitialize(wi.sysid())));
      } else if (duty instanceof Decision.LeaderDuty.WriteConfig) {
        work.add(Async.of(dcs.createConfig(loop.config().bootstrap().dcs().toString())));
      } else if (duty instanceof Decision.LeaderDuty.WriteHistory) {
        work.add(writeHistory());
      } else if (duty instanceof Decision.LeaderDuty.SyncSlots) {
        work.add(syncSlots());
      }
    }
    if (leading) {
      work.add(synchronousStep().exceptionally(e -> {
        LOG.warn("synchronous replication step failed: {}", Async.message(e));
        return null;
      }));
    }
    long optime = loop.local().lsn();
    if (leading && optime != loop.state().lastPublishedOptime()) {
      work.add(Async.of(dcs.writeStatus(optime)).thenRun(() -> loop.update(b -> b.lastPublishedOptime(optime))));
    }
    return Async.join(work);
  }

  private CompletableFuture<Void> synchronousStep() {
    if (!loop.view().leaderIsMe() || !loop.local().isRunningPrimary() || loop.local().task() != null) {
      return Async.done();
    }
    return loop.synchronous.step();
  }

  /** One slot change at a time: a takeover's early creation and the leader's duty must not both create a slot. */
  private CompletableFuture<Void> syncSlots() {
    return syncSlots(loop.view().leaderIsMe() || switchoverNamesMe());
  }

  /** @param asLeader make the slots a leader keeps (for every member streaming from the leader), not a replica's */
  private CompletableFuture<Void> syncSlots(boolean asLeader) {
    CompletableFuture<Void> next = loop.state().slotWork().handle((x, e) -> null).thenCompose(ignored -> {
      Set<String> wanted = new TreeSet<>();
      ReplicationSlots.members(loop.view(), loop.me(), asLeader).forEach(m -> wanted.add(SlotNames.forMember(m)));
      if (wanted.equals(loop.state().lastSlots())) return Async.done();
      return Async.of(pg.syncPhysicalSlots(wanted)).thenRun(() -> loop.update(b -> b.lastSlots(wanted)));
    });
    loop.update(b -> b.slotWork(next));
    return next;
  }

  /** A switchover names me: I am about to lead, so I keep (and make) the slots a leader keeps. */
  private boolean switchoverNamesMe() {
    var view = loop.view();
    return view.failover() != null && loop.me().equals(view.failover().candidate());
  }

  /**
   * The other members' slots, made on this standby before it takes the key: the followers re-point at the new
   * leader the moment they see the key, and a walreceiver whose slot does not exist yet (or is being created in our
   * session: "active for PID") gives up and waits wal_retrieve_retry_interval (5 s) before it tries again. A named
   * switchover candidate makes them as soon as it sees the request, while the old primary is still stopping.
   */
  CompletableFuture<Void> slotsBeforeTakeover(String why) {
    if (!loop.dynamic().useSlots() || !loop.local().isRunningReplica() || loop.view() == null) return Async.done();
    return syncSlots(true).exceptionally(e -> {
      LOG.warn("creating replication slots before the takeover ({}): {}", why, Async.message(e));
      return null;
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

  /** §3.6.3: history from the timeline history file; the newest entry names this member. */
  private CompletableFuture<Void> writeHistory() {
    int tl = loop.local().timeline();
    if (tl <= 1) return Async.of(dcs.writeHistory(List.of()));
    return Async.of(pg.timelineHistory(tl)).thenCompose(text -> {
      if (text == null) return Async.done();
      String now = OffsetDateTime.ofInstant(Instant.ofEpochMilli(clock.wallMs()), ZoneId.systemDefault()).toString();
      List<Dcs.HistoryEntry> history = new ArrayList<>();
      for (String raw : text.split("\n")) {
        String[] f = raw.trim().split("\t");
        if (f.length < 2 || f[0].startsWith("#")) continue;
        history.add(new Dcs.HistoryEntry(Integer.parseInt(f[0].trim()), Lsn.parse(f[1].trim()),
            f.length > 2 ? f[2].trim() : "", now, loop.me()));
      }
      return dcs.writeHistory(history);
    });
  }

  // ---- leaving the synchronous set ----

  /**
   * §4.6: a synchronous standby about to stop (restart, agent shutdown) first asks to leave the sync set, by
   * publishing {@code nosync}, and waits up to 2 × loop_wait for the primary to drop it from the {@code sync} key,
   * so that the primary's commits never wait for a standby that is going away. Then it proceeds anyway. The wait
   * reacts to the view (the sync key's watch, {@link #checkSyncLeave}), with a timer only for the deadline.
   */
  CompletableFuture<Void> leaveSynchronousSet() {
    if (!mustLeaveSync()) return Async.done();
    if (loop.state().syncLeft() != null) return loop.state().syncLeft();
    loop.update(b -> b.leavingSync(true));
    dcs.publishMember(loop.memberJson());
    LOG.info("ha.sync cycle={} leaving the synchronous standby set before postgres stops", loop.cycle());
    long waitMs = 2000L * loop.dynamic().loopWaitSeconds();
    CompletableFuture<Void> left = new CompletableFuture<>();
    long deadlineMs = clock.monotonicMs() + waitMs;
    Clock.Timer deadline = clock.after(waitMs, () -> checkSyncLeave(true));
    loop.update(b -> b.syncLeft(left).syncLeaveDeadlineMs(deadlineMs).syncLeaveTimer(deadline));
    return left;
  }

  /** Whether this member must leave the sync set before postgres stops (the core's SyncLeave.mustLeave). */
  private boolean mustLeaveSync() {
    var view = loop.view();
    return loop.dynamic().synchronousMode() == DynamicConfig.SyncMode.ON && view != null
        && !loop.config().tags().nosync() && view.sync().standbys().contains(loop.me());
  }

  /** On every view and at the deadline: done leaving once the sync key no longer lists us, or time is up. */
  void checkSyncLeave() {
    checkSyncLeave(false);
  }

  private void checkSyncLeave(boolean deadlineReached) {
    LoopState s = loop.state();
    CompletableFuture<Void> left = s.syncLeft();
    if (left == null) return;
    boolean dropped = !loop.view().sync().standbys().contains(loop.me());
    boolean timedOut = deadlineReached || clock.monotonicMs() > s.syncLeaveDeadlineMs();
    if (!dropped && !timedOut) return;
    if (!dropped) {
      LOG.warn("still listed in the sync key after {} s: stopping anyway", 2 * loop.dynamic().loopWaitSeconds());
    }
    if (s.syncLeaveTimer() != null) s.syncLeaveTimer().cancel();
    loop.update(b -> b.syncLeft(null).syncLeaveTimer(null));
    left.complete(null);
  }
}
