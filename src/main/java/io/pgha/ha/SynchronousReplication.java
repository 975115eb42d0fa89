package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.config.DynamicConfig;
import io.pgha.decision.ClusterView;
import io.pgha.decision.QuorumPlanner;
import io.pgha.decision.SyncPlanner;
import io.pgha.decision.SyncLeave;
import io.pgha.decision.SyncState;
import io.pgha.ha.port.Clock;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * Carries out the primary's synchronous replication (patroni-compat §4): one {@link SyncPlanner} step per call, the
 * {@code sync} key written with compare-and-set, and the standbys named in synchronous_standby_names, which the HA
 * loop writes into postgresql.conf through {@link #synchronousStandbyNames}. Its state lives in {@link LoopState}
 * ({@code ssnNames}, {@code ssnChangedAtLsn}, {@code settleChecks}); runs on the loop's thread.
 */
final class SynchronousReplication {
  /** After a change of synchronous_standby_names, how many quick re-checks (100 ms apart) look for confirmation. */
  private static final int SETTLE_CHECKS = 20;
  private static final long SETTLE_CHECK_MS = 100;

  private final HaLoop loop;
  /**
   * Quorum mode (§4.7): the ssn this agent last wrote, null until it wrote one. Kept here, not in LoopState, for a
   * small change; only the loop's thread touches it.
   */
  private QuorumPlanner.Ssn quorumSsn;

  SynchronousReplication(HaLoop loop) {
    this.loop = loop;
  }

  /** §4.1: in mode {@code on} pgha owns synchronous_standby_names; null when the user's own value applies. */
  String synchronousStandbyNames(DynamicConfig cfg) {
    if (cfg.synchronousMode() == DynamicConfig.SyncMode.QUORUM) return quorumSsnText();
    if (cfg.synchronousMode() != DynamicConfig.SyncMode.ON) return null;
    return SyncPlanner.ssnText(loop.state().ssnNames(), cfg.synchronousModeStrict());
  }

  void modeChanged() {
    loop.update(b -> b.settleChecks(0));
  }

  /** One of the quick re-checks after a change, if any are left. */
  private void settleCheck(LoopState s, String trigger) {
    if (s.settleChecks() <= 0) return;
    loop.update(b -> b.settleChecks(s.settleChecks() - 1));
    runCycleLater(trigger);
  }

  private void runCycleLater(String trigger) {
    loop.clock.after(SETTLE_CHECK_MS, () -> loop.runCycle(trigger));
  }

  /**
   * The leading primary's duty. After a change of synchronous_standby_names the next few cycles come quickly, so
   * that a standby is listed in {@code sync} within a fraction of a second of confirming, not at the next loop_wait.
   */
  CompletableFuture<Void> step() {
    DynamicConfig cfg = loop.dynamic();
    ClusterView view = loop.view();
    if (cfg.synchronousMode() == DynamicConfig.SyncMode.QUORUM) return quorumStep(cfg);
    quorumSsn = null;
    if (cfg.synchronousMode() != DynamicConfig.SyncMode.ON && view.sync().isEmpty()
        && loop.state().ssnNames().isEmpty()) {
      return Async.done();
    }
    return Async.of(loop.pg.syncSnapshot()).thenCompose(snap -> {
      ClusterView current = loop.view();
      LoopState s = loop.state();
      SyncPlanner.Step step = SyncPlanner.next(new SyncPlanner.Input(loop.me(), cfg, current.members(),
          snap.standbys(), current.sync(), s.ssnNames(), s.ssnChangedAtLsn(), snap.primaryFlushLsn()));
      if (step instanceof SyncPlanner.Step.None) {
        settleCheck(s, "synchronous standby check");
        return Async.done();
      }
      if (step instanceof SyncPlanner.Step.WriteSync w) {
        return writeSyncKey(w.leader(), w.standbys(), w.expectedVersion(), w.why());
      }
      if (step instanceof SyncPlanner.Step.ClearSync c) {
        loop.update(b -> b.ssnNames(Set.of()));
        return Async.of(loop.dcs.writeSync(null, Set.of(), c.expectedVersion())).thenCompose(done -> {
          if (done) {
            LOG.info("ha.sync cycle={} Disabled synchronous replication", loop.cycle());
            loop.view(loop.view().withSync(SyncState.EMPTY));
          }
          return loop.executor.applyConfig();
        });
      }
      SyncPlanner.Step.SetSsn set = (SyncPlanner.Step.SetSsn) step;
      Set<String> names = Set.copyOf(set.names());
      loop.update(b -> b.ssnNames(names).ssnChangedAtLsn(snap.primaryFlushLsn()).settleChecks(SETTLE_CHECKS));
      LOG.info("ha.sync cycle={} {}: synchronous_standby_names = '{}'", loop.cycle(), set.why(),
          SyncPlanner.ssnText(names, cfg.synchronousModeStrict()));
      return loop.executor.applyConfig().thenCompose(v -> loop.pg.nudgeWal())
          .thenRun(() -> runCycleLater("synchronous standby check"));
    });
  }

  /**
   * Quorum mode before anything was written since the agent started: the ssn the sync key stands for when this
   * member leads it (ANY |voters| - quorum (voters), which keeps the invariant with that key), so a rewrite of
   * postgresql.conf after an agent restart never loosens what the key promises; else none.
   */
  private String quorumSsnText() {
    if (quorumSsn != null) return quorumSsn.text();
    ClusterView view = loop.view();
    SyncState sync = view == null ? SyncState.EMPTY : view.sync();
    if (sync.isEmpty() || !sync.leader().equals(loop.me()) || sync.standbys().isEmpty()) {
      return loop.dynamic().synchronousModeStrict() ? new QuorumPlanner.Ssn(1, Set.of()).text() : "";
    }
    return new QuorumPlanner.Ssn(Math.max(1, sync.standbys().size() - sync.quorum()), sync.standbys()).text();
  }

  /** §4.7: one {@link QuorumPlanner} step: the sync key by compare-and-set, or ssn by reload, then look again. */
  private CompletableFuture<Void> quorumStep(DynamicConfig cfg) {
    return Async.of(loop.pg.syncSnapshot()).thenCompose(snap -> {
      ClusterView current = loop.view();
      LoopState s = loop.state();
      if (s.ssnChangedAtLsn() == 0) {
        // nothing known since the agent started: standbys confirm by reaching where the primary is now
        loop.update(b -> b.ssnChangedAtLsn(Math.max(1, snap.primaryFlushLsn())));
      }
      QuorumPlanner.Step step = QuorumPlanner.next(new QuorumPlanner.Input(loop.me(), cfg, current.members(),
          snap.standbys(), current.sync(), snap.synchronousStandbyNames(), quorumSsn,
          loop.state().ssnChangedAtLsn(), snap.primaryFlushLsn()));
      if (step instanceof QuorumPlanner.Step.None) {
        settleCheck(s, "quorum check");
        return Async.done();
      }
      if (step instanceof QuorumPlanner.Step.Wait w) {
        settleCheck(s, "quorum check");
        LOG.debug("ha.sync cycle={} {}", loop.cycle(), w.why());
        // the ssn we wrote may not have reached postgres yet (applyConfig waits while a task runs): write it again
        return loop.executor.applyConfig();
      }
      if (step instanceof QuorumPlanner.Step.Stuck st) {
        LOG.warn("ha.sync cycle={} quorum state left as it is: {}", loop.cycle(), st.why());
        return Async.done();
      }
      if (step instanceof QuorumPlanner.Step.WriteSync w) {
        return Async.of(loop.dcs.writeSync(w.leader(), w.voters(), w.quorum(), w.expectedVersion())).thenAccept(done -> {
          if (done) {
            LOG.info("ha.sync cycle={} {}: sync key {}", loop.cycle(), w.why(),
                describe(w.leader(), w.voters(), w.quorum()));
            loop.view(loop.view().withSync(new SyncState(w.leader(), w.voters(), w.quorum(), w.expectedVersion() + 1)));
            loop.update(b -> b.settleChecks(SETTLE_CHECKS));
            runCycleLater("quorum check");
          } else {
            LOG.info("ha.sync cycle={} the sync key was changed by someone else: reading it again", loop.cycle());
          }
        });
      }
      QuorumPlanner.Ssn ssn = ((QuorumPlanner.Step.SetSsn) step).ssn();
      quorumSsn = ssn;
      loop.update(b -> b.ssnChangedAtLsn(snap.primaryFlushLsn()).settleChecks(SETTLE_CHECKS));
      LOG.info("ha.sync cycle={} {}: synchronous_standby_names = '{}'", loop.cycle(),
          ((QuorumPlanner.Step.SetSsn) step).why(), ssn.text());
      return loop.executor.applyConfig().thenCompose(v -> loop.pg.nudgeWal())
          .thenRun(() -> runCycleLater("quorum check"));
    });
  }

  /**
   * §4.4: in synchronous mode the new primary first takes the {@code sync} key with no standbys (Patroni 3.x), so
   * that no member counts as synchronous for a primary it has not confirmed; if someone changed the key meanwhile,
   * the promotion waits for the next cycle.
   */
  CompletableFuture<Void> claimBeforePromote() {
    loop.update(b -> b.ssnNames(Set.of()));
    if (loop.dynamic().synchronousMode() == DynamicConfig.SyncMode.QUORUM) {
      // §4.4 quorum: no key write; ssn in force before the promotion, so our first commits meet the key's quorum
      quorumSsn = QuorumPlanner.beforePromote(loop.me(), loop.view().sync(), loop.dynamic());
      LOG.info("ha.sync cycle={} before promotion: synchronous_standby_names = '{}'", loop.cycle(), quorumSsn.text());
      // written and reloaded now (the promotion runs as a task, so applyConfig would wait); a failure stops it
      return loop.executor.rewriteAndReload(loop.parameters(), loop.recoveryFor(loop.local().upstream()));
    }
    if (loop.dynamic().synchronousMode() != DynamicConfig.SyncMode.ON) return Async.done();
    int version = loop.view().sync().version();
    String me = loop.me();
    return Async.of(loop.dcs.writeSync(me, Set.of(), version)).thenCompose(done -> {
      if (!done) return Async.<Void>failed("the sync key changed under us: promotion postponed");
      loop.view(loop.view().withSync(new SyncState(me, Set.of(), version + 1)));
      return Async.done();
    });
  }

  private CompletableFuture<Void> writeSyncKey(String leader, Set<String> standbys, int expectedVersion, String why) {
    return Async.of(loop.dcs.writeSync(leader, standbys, expectedVersion)).thenAccept(done -> {
      if (done) {
        LOG.info("ha.sync cycle={} {}: sync key {}", loop.cycle(), why, describe(leader, standbys));
        loop.view(loop.view().withSync(new SyncState(leader, standbys, expectedVersion + 1)));
        loop.again();
      } else {
        LOG.info("ha.sync cycle={} the sync key was changed by someone else: reading it again", loop.cycle());
      }
    });
  }

  /** The sync key's value as Patroni writes it, for the log line. */
  static String describe(String leader, Set<String> standbys) {
    return describe(leader, standbys, 0);
  }

  static String describe(String leader, Set<String> standbys, int quorum) {
    return "{\"leader\":\"" + leader + "\",\"quorum\":" + quorum + ",\"sync_standby\":"
        + (standbys.isEmpty() ? "null" : "\"" + String.join(",", new java.util.TreeSet<>(standbys)) + "\"") + "}";
  }

  // ---- leaving the synchronous set ----

  /**
   * §4.6: a synchronous standby about to stop (restart, agent shutdown) first asks to leave the sync set, by
   * publishing {@code nosync}, and waits up to 2 × loop_wait for the primary to drop it from the {@code sync} key,
   * so that the primary's commits never wait for a standby that is going away. Then it proceeds anyway. The wait
   * reacts to the view (the sync key's watch, {@link #checkSyncLeave}), with a timer only for the deadline.
   */
  CompletableFuture<Void> leaveSynchronousSet() {
    ClusterView view = loop.view();
    if (view == null || !SyncLeave.mustLeave(loop.dynamic().synchronousMode(), loop.config().tags().nosync(),
        view.sync(), loop.me())) {
      return Async.done();
    }
    if (loop.state().syncLeft() != null) return loop.state().syncLeft();
    loop.update(b -> b.leavingSync(true));
    loop.dcs.publishMember(loop.memberJson());
    LOG.info("ha.sync cycle={} leaving the synchronous standby set before postgres stops", loop.cycle());
    CompletableFuture<Void> left = new CompletableFuture<>();
    long deadlineMs = SyncLeave.deadlineMs(loop.clock.monotonicMs(), loop.dynamic().loopWaitSeconds());
    Clock.Timer deadline = loop.clock.after(deadlineMs - loop.clock.monotonicMs() + 1, () -> checkSyncLeave(true));
    loop.update(b -> b.syncLeft(left).syncLeaveDeadlineMs(deadlineMs).syncLeaveTimer(deadline));
    return left;
  }

  /** On every view: done leaving once the sync key no longer lists us. */
  void checkSyncLeave() {
    checkSyncLeave(false);
  }

  private void checkSyncLeave(boolean deadlineTimer) {
    LoopState s = loop.state();
    CompletableFuture<Void> left = s.syncLeft();
    if (left == null) return;
    // the deadline timer itself ends the wait, whatever the clocks' rounding
    long now = deadlineTimer ? Math.max(loop.clock.monotonicMs(), s.syncLeaveDeadlineMs() + 1) : loop.clock.monotonicMs();
    SyncLeave.Progress progress = SyncLeave.progress(loop.view().sync(), loop.me(), now, s.syncLeaveDeadlineMs());
    if (progress == SyncLeave.Progress.WAIT) return;
    if (progress == SyncLeave.Progress.TIMED_OUT) {
      LOG.warn("still listed in the sync key after {} s: stopping anyway", 2 * loop.dynamic().loopWaitSeconds());
    }
    if (s.syncLeaveTimer() != null) s.syncLeaveTimer().cancel();
    loop.update(b -> b.syncLeft(null).syncLeaveTimer(null));
    left.complete(null);
  }
}
