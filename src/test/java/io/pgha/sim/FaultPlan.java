package io.pgha.sim;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The faults of one run, VOPR "swarm" style: the seed picks which kinds of fault this run has at all (each kind is
 * on with odds one half), how many, when, to whom and for how long; and each machine's clock drift. Every fault
 * heals by itself after its duration, and everything heals at {@link #faultsEndMs}; then the cluster must converge.
 */
public record FaultPlan(Set<Kind> kinds, Map<String, Double> driftPpm, List<Fault> faults, long faultsEndMs) {

  public enum Kind {
    /** SIGSTOP of the agent (GC pause, hung VM): timers and inputs queue, postgres keeps taking writes. */
    FREEZE_AGENT,
    /** SIGKILL of the agent; a new one starts after the duration. */
    KILL_AGENT,
    /** The machine goes down (agent, guard, postgres); it boots after the duration. */
    KILL_NODE,
    /** One member cut off from ZooKeeper (not from its peers). */
    PARTITION_MEMBER,
    /** The whole ensemble loses quorum. */
    ENSEMBLE_OUTAGE,
    /** The postmaster dies; the agent is left to notice. */
    POSTMASTER_CRASH,
    /** A switchover request (to a named candidate or to any member), as the REST API writes it. */
    SWITCHOVER,
    /** Clocks drift (up to ±{@value #DRIFT_PPM_MAX} ppm); without it every clock keeps true time. */
    CLOCK_DRIFT
  }

  /** Realistic quartz drift; the lease margins of the agent and guard assume drift of this order. */
  public static final double DRIFT_PPM_MAX = 200;

  public record Fault(long atMs, Kind kind, String member, long durationMs) {}

  /** What the plan acts on (the simulated cluster). */
  public interface Target {
    void freezeAgent(String member);

    void thawAgent(String member);

    void killAgent(String member);

    void startAgent(String member);

    void killNode(String member);

    void bootNode(String member);

    void partition(String member);

    void heal(String member);

    void outage();

    void recover();

    void crashPostmaster(String member);

    /** {@code candidate} null: a switchover to whichever member is healthiest. */
    void requestSwitchover(String candidate);

    void healAll();
  }

  /** Draws a plan from {@code random}: faults in [startMs, endMs), up to {@code faultsMax} of them. */
  public static FaultPlan generate(Random random, List<String> members, long startMs, long endMs, int faultsMax) {
    EnumSet<Kind> kinds = EnumSet.noneOf(Kind.class);
    for (Kind k : Kind.values()) {
      if (random.nextBoolean()) kinds.add(k);
    }
    if (kinds.isEmpty() || kinds.equals(EnumSet.of(Kind.CLOCK_DRIFT))) {
      kinds.add(Kind.values()[random.nextInt(Kind.values().length - 1)]);
    }
    Map<String, Double> drift = new LinkedHashMap<>();
    for (String m : members) {
      drift.put(m, kinds.contains(Kind.CLOCK_DRIFT) ? (random.nextDouble() * 2 - 1) * DRIFT_PPM_MAX : 0.0);
    }
    List<Kind> active = new ArrayList<>(kinds);
    active.remove(Kind.CLOCK_DRIFT);
    List<Fault> faults = new ArrayList<>();
    int count = active.isEmpty() ? 0 : 1 + random.nextInt(Math.max(1, faultsMax));
    for (int i = 0; i < count; i++) {
      Kind k = active.get(random.nextInt(active.size()));
      long at = startMs + (long) (random.nextDouble() * (endMs - startMs));
      String member = members.get(random.nextInt(members.size()));
      long duration = switch (k) {
        case FREEZE_AGENT -> pick(random, 500, 60_000);
        case KILL_AGENT -> pick(random, 500, 30_000);
        case KILL_NODE -> pick(random, 2_000, 60_000);
        case PARTITION_MEMBER -> pick(random, 500, 60_000);
        case ENSEMBLE_OUTAGE -> pick(random, 500, 40_000);
        default -> 0;
      };
      if (k == Kind.SWITCHOVER && random.nextInt(3) == 0) member = null;
      faults.add(new Fault(at, k, member, duration));
    }
    faults.sort(Comparator.comparingLong(Fault::atMs));
    long end = endMs;
    for (Fault f : faults) end = Math.max(end, f.atMs() + f.durationMs());
    return new FaultPlan(kinds, drift, faults, end);
  }

  /** Short faults most of the time, long ones (past a session timeout) often enough. */
  private static long pick(Random random, long minMs, long maxMs) {
    double u = random.nextDouble();
    return minMs + (long) (u * u * (maxMs - minMs));
  }

  /** Schedules every fault and its heal, and the heal of everything at {@link #faultsEndMs}. */
  public void apply(SimScheduler sched, Target t) {
    for (Fault f : faults) {
      String m = f.member();
      String label = "fault " + f.kind() + (m == null ? "" : " " + m)
          + (f.durationMs() > 0 ? " for " + f.durationMs() + " ms" : "");
      switch (f.kind()) {
        case FREEZE_AGENT -> window(sched, f, label, () -> t.freezeAgent(m), () -> t.thawAgent(m));
        case KILL_AGENT -> window(sched, f, label, () -> t.killAgent(m), () -> t.startAgent(m));
        case KILL_NODE -> window(sched, f, label, () -> t.killNode(m), () -> t.bootNode(m));
        case PARTITION_MEMBER -> window(sched, f, label, () -> t.partition(m), () -> t.heal(m));
        case ENSEMBLE_OUTAGE -> window(sched, f, label, t::outage, t::recover);
        case POSTMASTER_CRASH -> sched.at(f.atMs(), label, () -> t.crashPostmaster(m));
        case SWITCHOVER -> sched.at(f.atMs(), label, () -> t.requestSwitchover(m));
        case CLOCK_DRIFT -> { }
      }
    }
    sched.at(faultsEndMs, "heal all faults", t::healAll);
  }

  private static void window(SimScheduler sched, Fault f, String label, Runnable begin, Runnable end) {
    sched.at(f.atMs(), label, begin);
    sched.at(f.atMs() + f.durationMs(), "heal " + f.kind() + (f.member() == null ? "" : " " + f.member()), end);
  }

  @Override
  public String toString() {
    StringBuilder b = new StringBuilder("kinds=" + kinds + " drift=" + driftPpm.values().stream()
        .map(d -> String.format("%.0f", d)).toList() + " faults:");
    for (Fault f : faults) {
      b.append("\n  t=").append(f.atMs()).append(' ').append(f.kind()).append(' ')
          .append(f.member() == null ? "-" : f.member()).append(f.durationMs() > 0 ? " " + f.durationMs() + "ms" : "");
    }
    return b.toString();
  }
}
