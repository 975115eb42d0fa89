package io.pgha.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The invariants, checked after every step of a run (TigerBeetle's state_checker): a violation throws a
 * {@link SimFailure}, and the runner prints the seed, the step and the trace.
 *
 * <ol>
 *   <li><b>One writer</b>: never two members whose postgres may accept writes at the same instant.
 *   <li><b>No acknowledged synchronous commit lost</b>: whenever a postgres becomes a primary, its WAL holds every
 *       commit acknowledged by a synchronous standby before that moment.
 *   <li><b>Convergence</b>: once the faults are healed, within a bound there is one leader (the {@code leader}
 *       znode names it and its postgres is the one primary) and every other member streams from it.
 * </ol>
 */
public final class Checkers implements SimScheduler.StepListener {
  private final SimScheduler sched;
  private final SimZooKeeper zk;
  private final Map<String, SimMember> members;
  private final Ledger ledger;
  private final String leaderPath;
  private final Map<String, Long> primaryChecked = new java.util.HashMap<>();
  private long healedAtMs = -1;
  private long convergeBoundMs;
  private long convergedAtMs = -1;
  private final List<String> notes = new ArrayList<>();

  public Checkers(SimScheduler sched, SimZooKeeper zk, Map<String, SimMember> members, Ledger ledger,
      String leaderPath) {
    this.sched = sched;
    this.zk = zk;
    this.members = members;
    this.ledger = ledger;
    this.leaderPath = leaderPath;
  }

  /** From {@code healedAtMs} on, the cluster must converge within {@code boundMs}. */
  public void expectConvergence(long healedAtMs, long boundMs) {
    this.healedAtMs = healedAtMs;
    this.convergeBoundMs = boundMs;
    this.convergedAtMs = -1;
  }

  public long convergedAtMs() {
    return convergedAtMs;
  }

  public List<String> notes() {
    return notes;
  }

  @Override
  public void afterStep(long step, long nowMs) {
    oneWriter();
    noSyncCommitLost();
    if (healedAtMs >= 0 && convergedAtMs < 0 && nowMs >= healedAtMs) {
      if (converged()) {
        convergedAtMs = nowMs;
        sched.log("checker: converged " + (nowMs - healedAtMs) + " ms after the heal");
      }
    }
  }

  /** Called at the end of the run (time {@code healedAt + bound} reached). */
  public void finish() {
    if (healedAtMs >= 0 && convergedAtMs < 0) {
      throw new SimFailure("not converged " + convergeBoundMs + " ms after the faults healed" + diverged() + ": "
          + describe());
    }
  }

  void oneWriter() {
    List<String> writers = new ArrayList<>();
    for (SimMember m : members.values()) {
      if (m.pg().writable()) writers.add(m.name());
    }
    if (writers.size() > 1) throw new SimFailure("two writable primaries at once: " + writers + "; " + describe());
  }

  void noSyncCommitLost() {
    for (SimMember m : members.values()) {
      SimPostgres pg = m.pg();
      if (!pg.writable()) continue;
      Long checked = primaryChecked.get(m.name());
      if (checked != null && checked == pg.primarySinceMs()) continue;
      primaryChecked.put(m.name(), pg.primarySinceMs());
      for (Ledger.Commit c : ledger.commits()) {
        if (!c.synchronous() || c.ackedAtMs() > pg.primarySinceMs()) continue;
        if (!pg.wal().holds(c.branch(), c.lsn())) {
          throw new SimFailure("acknowledged synchronous commit lost: " + c + " is not in the WAL of new primary "
              + m.name() + " " + pg.wal() + "; " + describe());
        }
      }
    }
  }

  /** One leader, its postgres the one primary, every other member's postgres streaming from it. */
  public boolean converged() {
    SimZooKeeper.Result leader = zk.peek(leaderPath);
    if (leader.code() != SimZooKeeper.Code.OK) return false;
    String name = leader.data();
    SimMember lm = members.get(name);
    if (lm == null || !lm.pg().writable()) return false;
    for (SimMember m : members.values()) {
      if (m == lm) continue;
      SimPostgres pg = m.pg();
      if (!pg.streaming() || !name.equals(pg.upstream())) return false;
    }
    return true;
  }

  /** Running standbys whose WAL went past the leader's fork point: they can never stream from it as they are. */
  String diverged() {
    SimZooKeeper.Result leader = zk.peek(leaderPath);
    SimMember lm = leader.code() == SimZooKeeper.Code.OK ? members.get(leader.data()) : null;
    if (lm == null || !lm.pg().hasData()) return "";
    List<String> out = new ArrayList<>();
    for (SimMember m : members.values()) {
      SimPostgres pg = m.pg();
      if (m != lm && pg.running() && pg.inRecovery() && !pg.wal().prefixOf(lm.pg().wal())) out.add(m.name());
    }
    return out.isEmpty() ? "" : "; diverged replicas never repaired: " + out;
  }

  public String describe() {
    StringBuilder b = new StringBuilder();
    SimZooKeeper.Result leader = zk.peek(leaderPath);
    b.append("leader key=").append(leader.code() == SimZooKeeper.Code.OK ? leader.data() : "none");
    for (SimMember m : members.values()) {
      SimPostgres pg = m.pg();
      b.append(" | ").append(m.name()).append(m.nodeUp() ? "" : " NODE-DOWN")
          .append(m.clock().dead() ? " agent-dead" : m.clock().frozen() ? " agent-frozen" : "")
          .append(" pg=").append(pg.run())
          .append(pg.hasData() ? (pg.inRecovery() ? " standby of " + pg.upstream() + (pg.streaming() ? " streaming"
              : " not-streaming") : " primary") : " no-data")
          .append(" tl=").append(pg.timeline()).append(" lsn=").append(pg.lsn())
          .append(pg.hasData() ? " wal=" + pg.wal() : "");
    }
    return b.toString();
  }
}
