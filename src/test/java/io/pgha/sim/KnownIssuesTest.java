package io.pgha.sim;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

/**
 * Seeds on which the simulation, with every fix on, found failures (README, *The simulation*): a fixed one is a
 * regression test; an open one is disabled until fixed, and {@link #theKnownIssuesAreStillThere} shows it still
 * fails as described. Both need the harder shape (up to 15 faults per run), which the CI sweep does not use.
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

  /** Fixed in ActionExecutor (follow/startWork record no upstream they could not point postgres at): kept as a regression. */
  @Test
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
   * The seed fails today, as described (so the disabled tests above are about what they say). When a fix lands
   * this fails: enable its test above and drop this one.
   */
  @Test
  void theKnownIssuesAreStillThere() {
    assertThat(Simulation.run(1099, hard()).failure()).startsWith("not converged")
        .contains("diverged replicas never repaired: [pg3]");
  }
}
