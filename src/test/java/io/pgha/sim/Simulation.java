package io.pgha.sim;

import io.pgha.config.PghaConfig;
import io.pgha.ha.HaLoop;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One seeded run: N members, each the real HaLoop over simulated ports; a warm-up in which the cluster bootstraps,
 * a window of faults drawn from the seed, the heal, and a bound within which the cluster must converge. The checkers
 * run after every event. Same seed and options: same events, same trace, same verdict.
 */
public final class Simulation {
  /**
   * @param fencingGuard {@code pgha.fencing_guard} (false: the guard never arms)
   * @param timelineCheck the driver's running-replica timeline check (HaLoop.Options)
   * @param synchronousMode null: the seed decides
   */
  public record Options(int members, boolean fencingGuard, boolean timelineCheck, Boolean synchronousMode,
      long warmupMs, long faultWindowMs, int faultsMax, long convergeBoundMs, int ttlSeconds, int loopWaitSeconds,
      List<FaultPlan.Fault> fixedFaults, boolean failsafe) {

    public Options(int members, boolean fencingGuard, boolean timelineCheck, Boolean synchronousMode, long warmupMs,
        long faultWindowMs, int faultsMax, long convergeBoundMs, int ttlSeconds, int loopWaitSeconds,
        List<FaultPlan.Fault> fixedFaults) {
      this(members, fencingGuard, timelineCheck, synchronousMode, warmupMs, faultWindowMs, faultsMax, convergeBoundMs,
          ttlSeconds, loopWaitSeconds, fixedFaults, false);
    }

    /** {@code failsafe_mode: true} in the members' bootstrap configuration (§10.2). */
    public Options withFailsafe(boolean on) {
      return new Options(members, fencingGuard, timelineCheck, synchronousMode, warmupMs, faultWindowMs, faultsMax,
          convergeBoundMs, ttlSeconds, loopWaitSeconds, fixedFaults, on);
    }

    public static Options defaults() {
      return new Options(3, true, true, null, 20_000, 90_000, 6, 150_000, 30, 10, null);
    }

    public Options withFixes(boolean guard, boolean timeline) {
      return new Options(members, guard, timeline, synchronousMode, warmupMs, faultWindowMs, faultsMax,
          convergeBoundMs, ttlSeconds, loopWaitSeconds, fixedFaults, failsafe);
    }

    public Options withFaults(List<FaultPlan.Fault> faults, Boolean sync) {
      return new Options(members, fencingGuard, timelineCheck, sync, warmupMs, faultWindowMs, faultsMax,
          convergeBoundMs, ttlSeconds, loopWaitSeconds, faults, failsafe);
    }
  }

  /** The verdict of one run. */
  public record Result(long seed, String failure, long step, long simulatedMs, List<String> trace, String plan,
      boolean synchronousMode, long commits, long syncCommits, long convergedAfterMs) {
    public boolean ok() {
      return failure == null;
    }

    public String report() {
      StringBuilder b = new StringBuilder();
      b.append("seed=").append(seed).append(" step=").append(step).append(" t=").append(simulatedMs).append(" ms")
          .append(" synchronous_mode=").append(synchronousMode).append(" commits=").append(commits)
          .append(" (synchronous ").append(syncCommits).append(") converged ").append(convergedAfterMs)
          .append(" ms after the heal\n");
      b.append(failure == null ? "OK" : "FAILED: " + failure).append('\n');
      b.append("plan: ").append(plan).append('\n');
      b.append("replay: mvn -B -o -q test -Dtest=SimulationTest#replay -Dsim.seed=").append(seed).append('\n');
      b.append("trace (last ").append(trace.size()).append(" lines):\n");
      for (String line : trace) b.append("  ").append(line).append('\n');
      return b.toString();
    }
  }

  /** How long a converged cluster is still watched before the run ends. */
  static final long STABLE_AFTER_CONVERGED_MS = 15_000;


  private final long seed;
  private final Options o;
  private final SimScheduler sched;
  private final FaultPlan plan;
  private final boolean sync;
  private final SimCluster cluster;
  private final long endMs;

  /** Builds the world of one run (nothing runs yet). */
  public Simulation(long seed, Options o) {
    this.seed = seed;
    this.o = o;
    sched = new SimScheduler(seed, 3000);
    List<String> names = SimCluster.names(o.members());
    long faultsFrom = o.warmupMs();
    FaultPlan drawn = FaultPlan.generate(sched.random(), names, faultsFrom, faultsFrom + o.faultWindowMs(),
        o.faultsMax());
    plan = o.fixedFaults() == null ? drawn : new FaultPlan(drawn.kinds(), drawn.driftPpm(), o.fixedFaults(),
        o.fixedFaults().stream().mapToLong(f -> f.atMs() + f.durationMs()).max().orElse(faultsFrom));
    sync = o.synchronousMode() != null ? o.synchronousMode() : sched.random().nextBoolean();
    SimCluster.Config cfg = new SimCluster.Config(o.members(), 2000, o.ttlSeconds() * 1000, 20, 50, 2000, 200, 1000,
        o.fencingGuard(), "/service/sim");
    cluster = new SimCluster(sched, cfg, plan.driftPpm());
    endMs = plan.faultsEndMs() + o.convergeBoundMs();
  }

  public SimCluster cluster() {
    return cluster;
  }

  public SimScheduler scheduler() {
    return sched;
  }

  public FaultPlan plan() {
    return plan;
  }

  public static Result run(long seed, Options o) {
    return new Simulation(seed, o).execute();
  }

  /** Starts the agents, writers and faults (time 0). */
  public void begin() {
    Map<String, PghaConfig> configs = new LinkedHashMap<>();
    for (String n : cluster.members().keySet()) {
      configs.put(n, SimAgent.config(n, "sim", o.ttlSeconds(), o.loopWaitSeconds(), sync, o.failsafe()));
    }
    HaLoop.Options loopOptions = new HaLoop.Options(o.timelineCheck());
    cluster.startAgents(m -> new SimAgent(cluster, m, configs.get(m.name()), loopOptions));
    cluster.ledger().startWriters(cluster.postgres(), cluster.config().writeIntervalMsMax(), endMs);
    plan.apply(sched, cluster);
    cluster.checkers().expectConvergence(plan.faultsEndMs(), o.convergeBoundMs());
  }

  public Result execute() {
    String failure = null;
    try {
      begin();
      // run until converged (then a little longer, for safety after the heal) or until the bound
      long at = plan.faultsEndMs();
      while (at < endMs) {
        at = Math.min(endMs, at + 5_000);
        sched.runUntil(Math.max(at, sched.nowMs()), 5_000_000);
        long conv = cluster.checkers().convergedAtMs();
        if (conv >= 0 && sched.nowMs() >= conv + STABLE_AFTER_CONVERGED_MS) break;
      }
      cluster.checkers().finish();
    } catch (SimFailure e) {
      failure = e.getMessage();
    } catch (RuntimeException e) {
      failure = "exception: " + e;
      sched.log("exception " + e + " at " + (e.getStackTrace().length > 0 ? e.getStackTrace()[0] : "?"));
    }
    long converged = cluster.checkers().convergedAtMs() < 0 ? -1
        : cluster.checkers().convergedAtMs() - plan.faultsEndMs();
    return new Result(seed, failure, sched.step(), sched.nowMs(), sched.trace(), plan.toString(), sync,
        cluster.ledger().commits().size(),
        cluster.ledger().commits().stream().filter(Ledger.Commit::synchronous).count(), converged);
  }
}
