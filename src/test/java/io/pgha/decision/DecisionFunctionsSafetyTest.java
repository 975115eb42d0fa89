package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.config.DynamicConfig.SyncMode;
import io.pgha.decision.ScheduledRestart.Due;
import io.pgha.decision.SyncLeave.Progress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * Properties of the pure functions beside {@link HaCore} over many random, seeded inputs, in the style of
 * {@link HaCoreSafetyTest}: some things must never happen, whatever the input. A failure names the seed of the case;
 * rerun one with {@code -Dpgha.safety.seed=<seed> -Dpgha.safety.rounds=1}.
 */
class DecisionFunctionsSafetyTest {
  private static final String ME = "pg1";
  private static final String[] NAMES = {"pg1", "pg2", "pg3", null};
  private static final long MASTER_SEED = Long.getLong("pgha.safety.seed", 0xC0_4EL);
  private static final int ROUNDS = Math.max(1, Integer.getInteger("pgha.safety.rounds", 200_000) / 10);

  /** Runs {@code check} on ROUNDS seeded generators; an assertion failure names the seed. */
  private static void forAll(Consumer<Random> check) {
    Random master = new Random(MASTER_SEED);
    for (int i = 0; i < ROUNDS; i++) {
      long seed = ROUNDS == 1 && System.getProperty("pgha.safety.seed") != null ? MASTER_SEED : master.nextLong();
      try {
        check.accept(new Random(seed));
      } catch (AssertionError | RuntimeException e) {
        throw new AssertionError("seed=" + seed + ": " + e.getMessage(), e);
      }
    }
  }

  private static String name(Random r) {
    return NAMES[r.nextInt(NAMES.length)];
  }

  private static long lsn(Random r) {
    return r.nextInt(4) == 0 ? 0 : r.nextInt(1000);
  }

  private static LocalState local(Random r) {
    PgRunState[] pg = PgRunState.values();
    Task[] tasks = Task.values();
    return LocalState.builder(ME)
        .pg(pg[r.nextInt(pg.length)])
        .inRecovery(r.nextInt(3) == 0 ? null : r.nextBoolean())
        .task(r.nextBoolean() ? null : tasks[r.nextInt(tasks.length)])
        .dataDir(DataDirState.values()[r.nextInt(DataDirState.values().length)])
        .diverged(r.nextBoolean()).rewindFailed(r.nextBoolean())
        .peers(r.nextBoolean() ? null : Map.of())
        .build();
  }

  private static SyncState sync(Random r) {
    if (r.nextInt(4) == 0) return r.nextBoolean() ? null : SyncState.EMPTY;
    Set<String> standbys = new HashSet<>();
    for (String n : NAMES) if (n != null && r.nextBoolean()) standbys.add(n);
    return new SyncState(name(r), standbys, r.nextInt(5));
  }

  private static ClusterView view(Random r) {
    if (r.nextInt(10) == 0) return null;
    Map<String, MemberRecord> members = new LinkedHashMap<>();
    for (String n : NAMES) {
      if (n == null || r.nextInt(4) == 0) continue;
      String[] states = {"running", "streaming", "starting", "stopped"};
      members.put(n, new MemberRecord(n, "postgres://" + n, "http://" + n, states[r.nextInt(states.length)],
          r.nextBoolean() ? "replica" : "primary", lsn(r), 1 + r.nextInt(2), r.nextInt(4) == 0,
          r.nextInt(4) == 0 ? 0 : null, false, false, null, false));
    }
    String leader = name(r);
    return new ClusterView(leader, ME.equals(leader) && r.nextInt(4) != 0, members,
        r.nextBoolean() ? null : "7711537902423831623", null,
        r.nextBoolean() ? null : new FailoverRequest(name(r), name(r), null), 1 + r.nextInt(3), lsn(r), null,
        r.nextBoolean() ? SyncState.EMPTY : new SyncState("pg2", Set.of(ME), 1));
  }

  @Test
  void switchoverNeverHandsOverWithoutTheCandidateHavingTheFinalPosition() {
    forAll(r -> {
      String candidate = name(r);
      long finalLsn = lsn(r);
      boolean received = r.nextBoolean();
      boolean paused = r.nextBoolean();
      Decision d = Switchover.afterStop(candidate, finalLsn, received, paused);
      assertThat(d.message()).isNotBlank();
      if (d.action() instanceof Action.HandOver h) {
        assertThat(received).as("hand over only what the candidate received").isTrue();
        assertThat(h.candidate()).isEqualTo(candidate);
        assertThat(h.finalLsn()).isEqualTo(finalLsn);
        assertThat(h.rejoinAsReplica()).as("rejoin only in pause, behind a named candidate")
            .isEqualTo(paused && candidate != null);
      } else {
        assertThat(d.action()).isEqualTo(new Action.StayLeader(candidate, finalLsn));
        assertThat(received).isFalse();
      }
    });
  }

  @Test
  void switchoverCaughtUpOnlyBeyondTheFinalPosition() {
    forAll(r -> {
      long finalLsn = lsn(r);
      Map<String, Long> received = new HashMap<>();
      for (String n : NAMES) if (n != null && r.nextBoolean()) received.put(n, r.nextInt(5) == 0 ? null : lsn(r));
      boolean caughtUp = Switchover.caughtUp(received, finalLsn);
      assertThat(caughtUp).isEqualTo(received.values().stream().anyMatch(l -> l != null && l > finalLsn));
      ClusterView v = view(r);
      String candidate = name(r);
      for (String peer : Switchover.peersToAsk(v, ME, candidate)) {
        assertThat(peer).isNotEqualTo(ME);
        assertThat(v.members().get(peer).canFailover()).isTrue();
        if (candidate != null) assertThat(peer).isEqualTo(candidate);
      }
    });
  }

  @Test
  void restartNeverAcceptedWhileBusyOrWithAnUnmetCondition() {
    String[] roles = {null, "primary", "master", "replica", "standby_leader"};
    String[] versions = {null, "9.6.1", "16.2", "16.3", "17"};
    forAll(r -> {
      LocalState local = local(r);
      RestartRequest req = new RestartRequest(roles[r.nextInt(roles.length)], versions[r.nextInt(versions.length)],
          r.nextInt(3) == 0 ? null : r.nextBoolean(), null, false);
      Integer server = r.nextBoolean() ? null : 160002;
      boolean pending = r.nextBoolean();
      OperationVerdict v = Operations.restart(req, local, r.nextBoolean(), server, pending);
      assertThat(v.accepted()).isEqualTo(v.httpStatus() == 200);
      if (v.accepted()) {
        assertThat(local.task()).as("one task at a time").isNull();
        String myRole = local.isRunningPrimary() ? "primary" : "replica";
        if (req.role() != null) assertThat(req.role().replace("master", "primary")).isEqualTo(myRole);
        if (req.postgresVersion() != null && server != null) {
          assertThat(Operations.versionNumber(req.postgresVersion())).isGreaterThan(server);
        }
        if (Boolean.TRUE.equals(req.restartPending())) assertThat(pending).isTrue();
      } else {
        assertThat(v.httpStatus()).isEqualTo(503);
      }
    });
  }

  @Test
  void reinitializeNeverOnTheLeaderNorWithoutOne() {
    forAll(r -> {
      ClusterView v = view(r);
      LocalState local = local(r);
      ReinitRequest req = new ReinitRequest(r.nextBoolean(), r.nextBoolean());
      OperationVerdict verdict = Operations.reinitialize(req, v, local);
      assertThat(verdict.accepted()).isEqualTo(verdict.httpStatus() == 200);
      if (verdict.accepted()) {
        assertThat(v.hasLeader()).isTrue();
        assertThat(v.leaderIsMe()).isFalse();
        assertThat(local.task() == null || req.force()).isTrue();
      } else {
        assertThat(verdict.httpStatus()).isEqualTo(503);
      }
    });
  }

  @Test
  void leavingTheSyncSetEndsOnlyWhenDroppedOrPastTheDeadline() {
    forAll(r -> {
      SyncState s = sync(r);
      long deadline = r.nextInt(100);
      long now = r.nextInt(100);
      Progress p = SyncLeave.progress(s, ME, now, deadline);
      boolean listed = s != null && s.standbys().contains(ME);
      switch (p) {
        case LEFT -> assertThat(listed).isFalse();
        case TIMED_OUT -> assertThat(listed && now > deadline).isTrue();
        case WAIT -> assertThat(listed && now <= deadline).isTrue();
      }
      // once timed out, later is timed out too
      if (p == Progress.TIMED_OUT) assertThat(SyncLeave.progress(s, ME, now + 1 + r.nextInt(100), deadline))
          .isEqualTo(Progress.TIMED_OUT);
      SyncMode mode = SyncMode.values()[r.nextInt(SyncMode.values().length)];
      boolean nosync = r.nextBoolean();
      // nothing to leave means no wait: mustLeave implies the wait has something to wait for
      if (SyncLeave.mustLeave(mode, nosync, s, ME)) {
        assertThat(SyncLeave.progress(s, ME, deadline, deadline)).isEqualTo(Progress.WAIT);
        assertThat(mode).isEqualTo(SyncMode.ON);
        assertThat(nosync).isFalse();
      }
    });
  }

  @Test
  void heartbeatNeverStartsWithoutTheKeyAndAlwaysRunsForAHolderAtWork() {
    forAll(r -> {
      boolean leaderIsMe = r.nextBoolean();
      boolean shuttingDown = r.nextBoolean();
      boolean paused = r.nextBoolean();
      boolean alive = r.nextBoolean();
      boolean primary = r.nextBoolean();
      boolean confirming = r.nextBoolean();
      boolean confirm = LeaderHeartbeat.shouldConfirm(leaderIsMe, shuttingDown, paused, alive, primary, confirming);
      if (!leaderIsMe && !confirming) assertThat(confirm).as("never starts without the key").isFalse();
      if (leaderIsMe && !shuttingDown) assertThat(confirm).as("a key holder at work confirms").isTrue();
      if (!leaderIsMe && shuttingDown) assertThat(confirm).isFalse();
      if (shuttingDown && !alive) assertThat(confirm).as("nothing to fence after postgres stopped").isFalse();
    });
  }

  @Test
  void viewTriggersAreSymmetricAndAViewEqualToTheLastNeverTriggers() {
    forAll(r -> {
      ClusterView a = view(r);
      ClusterView b = view(r);
      if (a == null || b == null) {
        if (b != null) assertThat(ViewChange.trigger(null, b)).isEqualTo(ViewChange.TRIGGER);
        return;
      }
      assertThat(ViewChange.trigger(a, a)).isNull();
      assertThat(ViewChange.trigger(a, b) == null).isEqualTo(ViewChange.trigger(b, a) == null);
      if (ViewChange.leaderChanged(a, b)) assertThat(ViewChange.trigger(a, b)).isEqualTo(ViewChange.TRIGGER);
      boolean released = r.nextBoolean();
      ClusterView seen = ViewChange.seen(b, released);
      if (released) assertThat(seen.leaderIsMe()).as("a released key is never ours again in an older view").isFalse();
      LocalState local = local(r);
      LocalState after = ViewChange.localAfter(a, b, local);
      if (!ViewChange.leaderChanged(a, b)) assertThat(after).isSameAs(local);
      else assertThat(after.peers()).isNull();
      assertThat(after.diverged()).as("a new leader never hides a divergence").isEqualTo(local.diverged());
    });
  }

  @Test
  void aScheduledRestartNeverRunsBusyPausedOrOutsideItsWindow() {
    forAll(r -> {
      long at = 1_000_000;
      long loopWait = 1000L * (1 + r.nextInt(10));
      long now = at + r.nextInt(40_000) - 20_000;
      String started = r.nextBoolean() ? null : "t" + r.nextInt(2);
      String current = r.nextBoolean() ? null : "t" + r.nextInt(2);
      boolean paused = r.nextBoolean();
      boolean busy = r.nextBoolean();
      Due due = new ScheduledRestart("s", at, RestartRequest.NOW, started).check(now, loopWait, paused, busy,
          current);
      if (due == Due.RUN) {
        assertThat(busy || paused).isFalse();
        assertThat(at - now).isBetween(-(loopWait * 3 / 2), loopWait);
      }
      if (due == Due.STALE) assertThat(now - at).isGreaterThan(loopWait * 3 / 2);
      if (busy) assertThat(due).isEqualTo(Due.WAIT);
    });
  }

  @Test
  void onlyAFailedBootstrapCancelsAndNoFailureStartsAnything() {
    forAll(r -> {
      Task task = Task.values()[r.nextInt(Task.values().length)];
      Decision d = TaskFailure.after(task, "e" + r.nextInt(10));
      assertThat(d.action() instanceof Action.CancelBootstrap).isEqualTo(task == Task.BOOTSTRAP);
      if (task != Task.BOOTSTRAP) assertThat(d.action()).isEqualTo(new Action.None());
      assertThat(TaskFailure.cycleNow(d)).isEqualTo(task != Task.BOOTSTRAP && task != Task.START);
    });
  }
}
