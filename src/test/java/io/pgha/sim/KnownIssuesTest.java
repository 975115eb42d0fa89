package io.pgha.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Seeds on which the simulation, with every fix on, finds failures of the current code (see
 * /work/wt/briefs/sim-needs.md and NOTES-sim.md). Disabled until fixed: enable a test with its fix; it must then
 * pass. Both need the harder shape (up to 15 faults per run), which the CI sweep of 1,000 seeds does not use.
 */
class KnownIssuesTest {
  static {
    if (System.getProperty("sim.log") == null) System.setProperty("org.slf4j.simpleLogger.log.pgha", "off");
  }

  static Simulation.Options hard() {
    Simulation.Options d = Simulation.Options.defaults();
    return new Simulation.Options(3, true, true, null, d.warmupMs(), d.faultWindowMs(), 15, d.convergeBoundMs(),
        d.ttlSeconds(), d.loopWaitSeconds(), null);
  }

  @Test
  @Disabled("driver: Follow to a leader whose member key is momentarily missing writes no primary_conninfo but"
      + " records the leader as upstream (sim-needs.md, finding 2)")
  void aReplicaFollowsALeaderWhoseMemberKeyWasMissingForAMoment() {
    Simulation.Result r = Simulation.run(1050, hard());
    assertThat(r.failure()).as(r.report()).isNull();
  }

  @Test
  @Disabled("core: two promotions to the same timeline number; the timeline check cannot see the divergence"
      + " (sim-needs.md, finding 3)")
  void aReplicaOnAnotherBranchOfTheSameTimelineIsRepaired() {
    Simulation.Result r = Simulation.run(1099, hard());
    assertThat(r.failure()).as(r.report()).isNull();
  }

  /**
   * The two seeds fail today, as described (so the disabled tests above are about what they say). When a fix lands
   * this fails: drop its line here and enable its test above.
   */
  @Test
  void theKnownIssuesAreStillThere() {
    assertThat(Simulation.run(1050, hard()).failure()).startsWith("not converged")
        .contains("pg2 pg=RUNNING standby of null not-streaming");
    assertThat(Simulation.run(1099, hard()).failure()).startsWith("not converged")
        .contains("diverged replicas never repaired: [pg3]");
  }
}
