package io.pgha.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * One machine's clock, and the gate in front of the agent process that runs on it.
 *
 * <p>The clock drifts linearly by {@code driftPpm} from true time (the ZooKeeper servers' time), from an arbitrary
 * seeded origin; the wall clock may also be stepped. Timers are set in local milliseconds and fire at the true time
 * that local delay takes on this clock.
 *
 * <p>A <em>freeze</em> (SIGSTOP, a long GC pause, a hung VM) stops the agent: its timers and inputs that come due are
 * queued, in order, and run when it thaws. The clock itself keeps running, as CLOCK_MONOTONIC does, so a thawed agent
 * sees time jump. Postgres and the fencing guard on the same machine are separate processes and are not frozen. A
 * <em>kill</em> drops everything queued and anything that comes later until {@link #restart}.
 */
public final class SimClock {
  /** A timer set on this clock; cancel keeps it from firing (also when queued behind a freeze). */
  public static final class Timer {
    private SimScheduler.Event event;
    private boolean cancelled;

    public void cancel() {
      cancelled = true;
      if (event != null) event.cancel();
    }

    public boolean cancelled() {
      return cancelled;
    }
  }

  private final SimScheduler sched;
  private final String name;
  private final double driftPpm;
  private final long originMs;
  private long wallStepMs;
  private boolean frozen;
  private boolean dead;
  private int generation;
  private final List<Runnable> queued = new ArrayList<>();

  public SimClock(SimScheduler sched, String name, double driftPpm, long originMs) {
    this.sched = sched;
    this.name = name;
    this.driftPpm = driftPpm;
    this.originMs = originMs;
  }

  public String name() {
    return name;
  }

  public double driftPpm() {
    return driftPpm;
  }

  /** This machine's CLOCK_MONOTONIC in ms. */
  public long monotonicMs() {
    return originMs + localSpan(sched.nowMs());
  }

  /** Wall clock (epoch ms): a fixed date plus the monotonic clock plus any step. */
  public long wallMs() {
    return 1_764_950_400_000L + monotonicMs() - originMs + wallStepMs;
  }

  public void stepWall(long deltaMs) {
    wallStepMs += deltaMs;
  }

  /** True ms that {@code localMs} of this clock take (rounded up: a timer never fires early by its own clock). */
  public long trueSpan(long localMs) {
    return (long) Math.ceil(localMs * 1_000_000.0 / (1_000_000.0 + driftPpm));
  }

  private long localSpan(long trueMs) {
    return (long) Math.floor(trueMs * (1_000_000.0 + driftPpm) / 1_000_000.0);
  }

  /** An agent timer: fires after {@code localDelayMs} of this clock, through the freeze gate. */
  public Timer after(long localDelayMs, String label, Runnable action) {
    Timer t = new Timer();
    int gen = generation;
    t.event = sched.after(trueSpan(Math.max(0, localDelayMs)), label == null ? null : name + " timer " + label,
        () -> {
          if (!t.cancelled) deliver(gen, () -> {
            if (!t.cancelled) action.run();
          });
        });
    return t;
  }

  /** An input to the agent (a ZooKeeper callback, a watch event, a postgres event): runs now unless frozen or dead. */
  public void deliver(Runnable input) {
    deliver(generation, input);
  }

  /** The process generation now; inputs bound to an older one (before a kill) are dropped. */
  public int generation() {
    return generation;
  }

  public void deliver(int gen, Runnable input) {
    if (dead || gen != generation) return;
    if (frozen) {
      queued.add(input);
    } else {
      input.run();
    }
  }

  public boolean frozen() {
    return frozen;
  }

  public boolean dead() {
    return dead;
  }

  public void freeze() {
    if (dead) return;
    frozen = true;
    sched.log(name + " agent frozen");
  }

  /** Thaws the agent: everything that came due while frozen runs now, in the order it came. */
  public void thaw() {
    if (!frozen) return;
    frozen = false;
    sched.log(name + " agent thawed with " + queued.size() + " queued inputs");
    List<Runnable> due = new ArrayList<>(queued);
    queued.clear();
    int gen = generation;
    sched.after(0, name + " thawed inputs", () -> {
      for (Runnable r : due) deliver(gen, r);
    });
  }

  /** The agent process dies: queued and future inputs of this generation are dropped. */
  public void kill() {
    dead = true;
    frozen = false;
    queued.clear();
    generation++;
  }

  /** A new agent process starts on this machine. */
  public void restart() {
    dead = false;
    frozen = false;
    queued.clear();
    generation++;
  }
}
