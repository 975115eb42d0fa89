package io.pgha.sim;

/**
 * The fencing guard of one member: a process beside the agent (io.pgha.guard.FencingGuard's deadline, the
 * fencing-guard.sh loop) that kills postgres when its deadline passes without a new push. It measures on the
 * machine's clock, and it is not frozen with the agent; a node kill takes it down with everything else.
 * {@code enabled=false} is {@code pgha.fencing_guard: false}: nothing is ever armed.
 */
public final class SimGuard {
  private final SimScheduler sched;
  private final SimClock clock;
  private final SimPostgres pg;
  private final boolean enabled;
  private SimScheduler.Event deadline;
  private long deadlineLocalMs = -1;
  private int fires;
  private boolean alive = true;

  public SimGuard(SimScheduler sched, SimClock clock, SimPostgres pg, boolean enabled) {
    this.sched = sched;
    this.clock = clock;
    this.pg = pg;
    this.enabled = enabled;
  }

  public boolean enabled() {
    return enabled;
  }

  /** Arms (or pushes) the guard: postgres dies {@code remainingMs} of this machine's clock from now. */
  public boolean arm(long remainingMs) {
    if (!enabled || !alive) return false;
    if (deadline != null) deadline.cancel();
    deadlineLocalMs = clock.monotonicMs() + Math.max(0, remainingMs);
    deadline = sched.after(clock.trueSpan(Math.max(0, remainingMs)), null, this::fire);
    return true;
  }

  public void disarm() {
    if (deadline != null) deadline.cancel();
    deadline = null;
    deadlineLocalMs = -1;
  }

  public boolean armed() {
    return deadline != null;
  }

  /** The armed deadline on this machine's monotonic clock, or -1. */
  public long deadlineLocalMs() {
    return deadlineLocalMs;
  }

  public int fires() {
    return fires;
  }

  private void fire() {
    deadline = null;
    deadlineLocalMs = -1;
    if (!pg.running() && pg.run() != SimPostgres.Run.STARTING && pg.run() != SimPostgres.Run.STOPPING) return;
    fires++;
    sched.log(clock.name() + " fencing guard fires: killing postgres");
    pg.crash("killed by the fencing guard");
  }

  /** The node goes down. */
  public void kill() {
    disarm();
    alive = false;
  }

  public void restart() {
    alive = true;
  }
}
