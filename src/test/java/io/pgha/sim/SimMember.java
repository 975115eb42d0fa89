package io.pgha.sim;

/**
 * One machine of the simulated cluster: its clock (and the agent gate), its postgres, its fencing guard, and the
 * agent's ZooKeeper client. The agent itself (phase B: the real HaLoop over simulated ports) plugs in through
 * {@link Agent}.
 */
public final class SimMember {
  /** The agent process on this machine, as the fault plan sees it. */
  public interface Agent {
    /** A fresh agent process starts (after a kill, or at the beginning). */
    void start();

    /** The agent process dies (SIGKILL): nothing is cleaned up. */
    void killed();
  }

  private final String name;
  private final SimClock clock;
  private final SimPostgres pg;
  private final SimGuard guard;
  private SimZkClient zk;
  private Agent agent;
  private boolean nodeUp = true;

  public SimMember(String name, SimClock clock, SimPostgres pg, SimGuard guard) {
    this.name = name;
    this.clock = clock;
    this.pg = pg;
    this.guard = guard;
  }

  public String name() {
    return name;
  }

  public SimClock clock() {
    return clock;
  }

  public SimPostgres pg() {
    return pg;
  }

  public SimGuard guard() {
    return guard;
  }

  public SimZkClient zk() {
    return zk;
  }

  public void zk(SimZkClient client) {
    zk = client;
  }

  public Agent agent() {
    return agent;
  }

  public void agent(Agent a) {
    agent = a;
  }

  public boolean nodeUp() {
    return nodeUp;
  }

  /** The agent's process is alive (possibly frozen). */
  public boolean agentAlive() {
    return nodeUp && !clock.dead();
  }

  public void killAgent() {
    if (!agentAlive()) return;
    clock.kill();
    if (zk != null) zk.abandon();
    if (agent != null) agent.killed();
  }

  public void startAgent() {
    if (!nodeUp || !clock.dead()) return;
    clock.restart();
    if (agent != null) agent.start();
  }

  /** The whole machine goes down: agent, guard and postgres. */
  public void killNode() {
    if (!nodeUp) return;
    killAgent();
    guard.kill();
    pg.crash("node down");
    nodeUp = false;
  }

  /** The machine boots again: the guard and a fresh agent start; postgres stays down until the agent starts it. */
  public void bootNode() {
    if (nodeUp) return;
    nodeUp = true;
    guard.restart();
    startAgent();
  }
}
