package io.pgha.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Clients writing to every member and the ledger of what was acknowledged. Each member's clients try a commit every
 * so often; a commit that the member's postgres acknowledges is recorded with where it went (member, WAL branch, LSN)
 * and whether it was acknowledged under synchronous replication.
 */
public final class Ledger {
  /** An acknowledged commit. */
  public record Commit(String member, int branch, long lsn, long ackedAtMs, boolean synchronous) {}

  private final SimScheduler sched;
  private final List<Commit> commits = new ArrayList<>();
  private long attempts;
  private long refused;

  public Ledger(SimScheduler sched) {
    this.sched = sched;
  }

  /** Starts one writer per member: a commit attempt every [1, intervalMsMax] ms until {@code untilMs}. */
  public void startWriters(Map<String, SimPostgres> members, long intervalMsMax, long untilMs) {
    for (SimPostgres pg : members.values()) schedule(pg, intervalMsMax, untilMs);
  }

  private void schedule(SimPostgres pg, long intervalMsMax, long untilMs) {
    long at = sched.nowMs() + sched.delay(1, intervalMsMax);
    if (at > untilMs) return;
    sched.at(at, null, () -> {
      write(pg);
      schedule(pg, intervalMsMax, untilMs);
    });
  }

  /** One commit attempt on {@code pg}; returns whether postgres took it (acknowledgement may come later). */
  public boolean write(SimPostgres pg) {
    attempts++;
    int branch = pg.branch();
    boolean taken = pg.commit((lsn, sync) -> commits.add(new Commit(pg.name(), branch, lsn, sched.nowMs(), sync)));
    if (!taken) refused++;
    return taken;
  }

  public List<Commit> commits() {
    return commits;
  }

  public long attempts() {
    return attempts;
  }

  public long refused() {
    return refused;
  }
}
