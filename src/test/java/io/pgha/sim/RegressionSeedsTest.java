package io.pgha.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Issue 10 item 3: seeds on which the simulation finds the failures of the fault-suite issue (9) once its fixes are
 * switched off the way a user could: {@code pgha.fencing_guard: false} (the guard never arms) and the driver's
 * running-replica timeline check off ({@code HaLoop.Options(timelineCheck=false)}). With the fixes on, the same
 * schedules pass. Found by running seeds 1..200 with both fixes off.
 */
class RegressionSeedsTest {
  static {
    if (System.getProperty("sim.log") == null) System.setProperty("org.slf4j.simpleLogger.log.pgha", "off");
  }

  /** Seed 2: the primary's agent (pg1) is frozen for 54 s; postgres keeps taking writes; pg3 takes over. */
  static final long FROZEN_AGENT_SPLIT_SEED = 2;

  /**
   * Seed 93 (synchronous mode): the primary's node dies; the synchronous standby pg3 takes over a record behind the
   * asynchronous pg1 and the old primary pg2, whose WAL then goes past the fork point of timeline 2. (Before the
   * slot calls stopped drawing from the schedule, issue 13, the same seed had pg1 take over, pg2 and pg3 diverged.)
   */
  static final long DIVERGED_REPLICA_SEED = 93;

  private static Simulation.Result run(long seed, boolean guard, boolean timelineCheck) {
    return Simulation.run(seed, Simulation.Options.defaults().withFixes(guard, timelineCheck));
  }

  @Test
  void withoutTheFencingGuardAFrozenAgentsPrimaryKeepsWritingBesideTheNewOne() {
    Simulation.Result off = run(FROZEN_AGENT_SPLIT_SEED, false, true);
    assertThat(off.failure()).as(off.report()).startsWith("two writable primaries at once");
    assertThat(off.failure()).contains("pg1 agent-frozen pg=RUNNING primary");
    assertThat(off.trace()).anyMatch(l -> l.contains("pg1 agent frozen"));

    Simulation.Result on = run(FROZEN_AGENT_SPLIT_SEED, true, true);
    assertThat(on.failure()).as(on.report()).isNull();
    assertThat(on.trace()).anyMatch(l -> l.contains("pg1 fencing guard fires: killing postgres"));
  }

  @Test
  void withoutTheTimelineCheckADivergedReplicaIsNeverRepaired() {
    Simulation.Result off = run(DIVERGED_REPLICA_SEED, true, false);
    assertThat(off.failure()).as(off.report()).startsWith("not converged")
        .contains("diverged replicas never repaired: [pg1, pg2]");

    Simulation.Result on = run(DIVERGED_REPLICA_SEED, true, true);
    assertThat(on.failure()).as(on.report()).isNull();
    assertThat(on.convergedAfterMs()).isBetween(0L, 150_000L);
  }
}
