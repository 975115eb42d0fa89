package io.pgha.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The scheduler, clocks, guard, checkers and fault plan. */
class SimModelsTest {

  @Test
  void eventsRunInTimeThenInsertionOrderAndTheTraceIsBounded() {
    SimScheduler s = new SimScheduler(1, 3);
    List<String> ran = new ArrayList<>();
    s.at(20, "c", () -> ran.add("c"));
    s.at(10, "a", () -> ran.add("a"));
    s.at(10, "b", () -> ran.add("b"));
    SimScheduler.Event d = s.at(15, "d", () -> ran.add("d"));
    d.cancel();
    s.at(30, "e", () -> ran.add("e"));
    s.runUntil(25, 100);
    assertThat(ran).containsExactly("a", "b", "c");
    assertThat(s.nowMs()).isEqualTo(25);
    s.runUntil(100, 100);
    assertThat(s.trace()).hasSize(3).last().asString().contains("step=4 e");
  }

  @Test
  void aRunawayRunIsStoppedByItsStepBudget() {
    SimScheduler s = new SimScheduler(1, 3);
    Runnable[] loop = new Runnable[1];
    loop[0] = () -> s.after(0, null, loop[0]);
    s.after(0, null, loop[0]);
    assertThatThrownBy(() -> s.runUntil(10, 1000)).isInstanceOf(SimFailure.class).hasMessageContaining("budget");
  }

  @Test
  void aDriftingClockFiresItsTimersByItsOwnTime() {
    SimScheduler s = new SimScheduler(1, 100);
    SimClock fast = new SimClock(s, "fast", 1000, 0); // +1000 ppm: 1 ms ahead per second
    long[] firedAt = new long[1];
    fast.after(10_000, "t", () -> firedAt[0] = s.nowMs());
    s.runUntil(20_000, 100);
    assertThat(firedAt[0]).isEqualTo(9_991); // 10 000 of its ms take 9 990.01 true ms, rounded up
    assertThat(fast.monotonicMs()).isEqualTo(20_020);
  }

  @Test
  void aFrozenAgentQueuesItsTimersAndInputsAndAKilledOneDropsThem() {
    SimScheduler s = new SimScheduler(1, 100);
    SimClock c = new SimClock(s, "pg1", 0, 0);
    List<String> ran = new ArrayList<>();
    c.after(100, "a", () -> ran.add("timer@" + s.nowMs()));
    c.freeze();
    s.runUntil(5_000, 100);
    c.deliver(() -> ran.add("input@" + s.nowMs()));
    assertThat(ran).isEmpty();
    assertThat(c.monotonicMs()).isEqualTo(5_000); // its clock keeps running
    c.thaw();
    s.runUntil(5_000, 100);
    assertThat(ran).containsExactly("timer@5000", "input@5000");
    c.after(100, "b", () -> ran.add("late"));
    c.kill();
    c.restart();
    s.runUntil(6_000, 100);
    assertThat(ran).hasSize(2);
  }

  @Test
  void theGuardKillsPostgresAtItsDeadlineEvenWhileTheAgentIsFrozen() {
    SimScheduler s = new SimScheduler(1, 100);
    SimPostgres[] holder = new SimPostgres[1];
    SimPostgres pg = new SimPostgres(s, "pg1", n -> holder[0], 10, 10);
    holder[0] = pg;
    pg.initdb();
    pg.start(false, null, ok -> { });
    s.runUntil(100, 100);
    SimClock clock = new SimClock(s, "pg1", 0, 0);
    SimGuard guard = new SimGuard(s, clock, pg, true);
    assertThat(guard.arm(1000)).isTrue();
    clock.freeze();
    s.runUntil(1099, 100);
    assertThat(pg.writable()).isTrue();
    s.runUntil(1100, 100);
    assertThat(pg.running()).isFalse();
    assertThat(guard.fires()).isEqualTo(1);
    SimGuard off = new SimGuard(s, clock, pg, false);
    assertThat(off.arm(10)).isFalse();
    assertThat(off.armed()).isFalse();
  }

  @Test
  void checkersSeeTwoWritersALostSyncCommitAndConvergence() {
    SimScheduler s = new SimScheduler(3, 1000);
    SimCluster cl = new SimCluster(s, SimCluster.Config.defaults(), Map.of());
    SimPostgres p1 = cl.postgres().get("pg1");
    SimPostgres p2 = cl.postgres().get("pg2");
    SimPostgres p3 = cl.postgres().get("pg3");
    p1.initdb();
    p1.start(false, null, ok -> { });
    s.runUntil(3_000, 10_000);
    p2.cloneFrom("pg1");
    p3.cloneFrom("pg1");
    p2.start(true, "pg1", ok -> { });
    p3.start(true, "pg1", ok -> { });
    s.runUntil(6_000, 10_000);
    assertThat(cl.checkers().converged()).isFalse(); // nobody holds the leader key
    cl.zk().adminPut(cl.layout().leader(), "pg1");
    assertThat(cl.checkers().converged()).isTrue();

    p1.setSyncStandbys(java.util.Set.of("pg2"));
    cl.ledger().write(p1);
    s.runUntil(7_000, 10_000);
    assertThat(cl.ledger().commits()).hasSize(1).allMatch(Ledger.Commit::synchronous);
    p1.crash("test");
    // pg3 (not the sync standby, and behind: it never got the commit) is promoted: the commit is lost
    p3.stop(SimPostgres.StopMode.IMMEDIATE, ok -> { });
    p3.adopt(p1.wal().truncate(p1.lsn() - 1), p1.sysid(), true);
    p3.start(true, null, ok -> { });
    s.runUntil(9_000, 10_000);
    p3.promote(ok -> { });
    assertThatThrownBy(() -> s.runUntil(10_000, 10_000)).isInstanceOf(SimFailure.class)
        .hasMessageContaining("acknowledged synchronous commit lost");

    p1.start(false, null, ok -> { });
    assertThatThrownBy(() -> s.runUntil(13_000, 10_000)).isInstanceOf(SimFailure.class)
        .hasMessageContaining("two writable primaries");
  }

  @Test
  void aSeedPicksTheSameFaultPlanEveryTime() {
    List<String> names = SimCluster.names(3);
    FaultPlan a = FaultPlan.generate(new Random(99), names, 10_000, 100_000, 8);
    FaultPlan b = FaultPlan.generate(new Random(99), names, 10_000, 100_000, 8);
    assertThat(a).isEqualTo(b);
    assertThat(a.faults()).isSortedAccordingTo(java.util.Comparator.comparingLong(FaultPlan.Fault::atMs));
    assertThat(a.faultsEndMs()).isGreaterThanOrEqualTo(100_000);
    int kinds = 0;
    for (int seed = 0; seed < 200; seed++) {
      kinds |= FaultPlan.generate(new Random(seed), names, 0, 1000, 8).kinds().stream()
          .mapToInt(k -> 1 << k.ordinal()).reduce(0, (x, y) -> x | y);
    }
    assertThat(Integer.bitCount(kinds)).isEqualTo(FaultPlan.Kind.values().length);
  }

  @Test
  void aFaultPlanActsOnTheClusterAndHealsEverything() {
    SimScheduler s = new SimScheduler(5, 10_000);
    SimCluster cl = new SimCluster(s, SimCluster.Config.defaults(), Map.of());
    FaultPlan plan = new FaultPlan(java.util.EnumSet.allOf(FaultPlan.Kind.class), Map.of(), List.of(
        new FaultPlan.Fault(1_000, FaultPlan.Kind.FREEZE_AGENT, "pg1", 5_000),
        new FaultPlan.Fault(2_000, FaultPlan.Kind.PARTITION_MEMBER, "pg2", 50_000),
        new FaultPlan.Fault(3_000, FaultPlan.Kind.KILL_NODE, "pg3", 50_000)), 20_000);
    plan.apply(s, cl);
    s.runUntil(4_000, 1000);
    assertThat(cl.member("pg1").clock().frozen()).isTrue();
    assertThat(cl.zk().reachable("pg2")).isFalse();
    assertThat(cl.member("pg3").nodeUp()).isFalse();
    s.runUntil(7_000, 1000);
    assertThat(cl.member("pg1").clock().frozen()).isFalse();
    s.runUntil(20_000, 1000);
    assertThat(cl.zk().reachable("pg2")).isTrue();
    assertThat(cl.member("pg3").nodeUp()).isTrue();
    assertThat(s.trace()).anyMatch(l -> l.contains("heal all faults"));
  }
}
