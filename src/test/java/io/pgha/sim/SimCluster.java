package io.pgha.sim;

import io.pgha.dcs.ZkLayout;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The simulated world of one run: the scheduler, the ZooKeeper ensemble, N machines (clock, postgres, guard, ZooKeeper
 * client, agent), the writers' ledger and the checkers. It is the {@link FaultPlan.Target}.
 */
public final class SimCluster implements FaultPlan.Target {
  /** The knobs of a run. */
  public record Config(
      int members,
      int tickMs,
      int sessionTimeoutMs,
      long zkLatencyMsMax,
      long watchDelayMsMax,
      long pgStartMsMax,
      long streamLagMsMax,
      long writeIntervalMsMax,
      boolean fencingGuard,
      String base) {
    public static Config defaults() {
      return new Config(3, 2000, 30_000, 20, 50, 2000, 50, 200, true, "/service/sim");
    }

    public Config withFencingGuard(boolean on) {
      return new Config(members, tickMs, sessionTimeoutMs, zkLatencyMsMax, watchDelayMsMax, pgStartMsMax,
          streamLagMsMax, writeIntervalMsMax, on, base);
    }
  }

  private final SimScheduler sched;
  private final Config cfg;
  private final SimZooKeeper zk;
  private final Map<String, SimMember> members = new LinkedHashMap<>();
  private final Map<String, SimPostgres> pgs = new LinkedHashMap<>();
  private final Ledger ledger;
  private final Checkers checkers;
  private final ZkLayout layout;

  public SimCluster(SimScheduler sched, Config cfg, Map<String, Double> driftPpm) {
    this.sched = sched;
    this.cfg = cfg;
    this.layout = new ZkLayout(cfg.base());
    this.zk = new SimZooKeeper(sched, cfg.tickMs(), cfg.watchDelayMsMax());
    for (int i = 1; i <= cfg.members(); i++) {
      String name = "pg" + i;
      long origin = 1_000_000L * i + sched.random().nextInt(1_000_000);
      SimClock clock = new SimClock(sched, name, driftPpm.getOrDefault(name, 0.0), origin);
      SimPostgres pg = new SimPostgres(sched, name, pgs::get, cfg.pgStartMsMax(), cfg.streamLagMsMax());
      pgs.put(name, pg);
      pg.peerNames(pgs::keySet);
      SimMember m = new SimMember(name, clock, pg, new SimGuard(sched, clock, pg, cfg.fencingGuard()));
      members.put(name, m);
    }
    this.ledger = new Ledger(sched);
    this.checkers = new Checkers(sched, zk, members, ledger, layout.leader());
    sched.addListener(checkers);
  }

  public static List<String> names(int n) {
    List<String> out = new ArrayList<>();
    for (int i = 1; i <= n; i++) out.add("pg" + i);
    return out;
  }

  /** Builds each member's agent (phase B: the real HaLoop over simulated ports) and starts it. */
  public void startAgents(Function<SimMember, SimMember.Agent> factory) {
    for (SimMember m : members.values()) {
      m.agent(factory.apply(m));
      m.agent().start();
    }
  }

  public SimScheduler scheduler() {
    return sched;
  }

  public Config config() {
    return cfg;
  }

  public SimZooKeeper zk() {
    return zk;
  }

  public ZkLayout layout() {
    return layout;
  }

  public Map<String, SimMember> members() {
    return members;
  }

  public SimMember member(String name) {
    return members.get(name);
  }

  public Map<String, SimPostgres> postgres() {
    return pgs;
  }

  public Ledger ledger() {
    return ledger;
  }

  public Checkers checkers() {
    return checkers;
  }

  // ---- FaultPlan.Target ----

  @Override
  public void freezeAgent(String m) {
    if (members.get(m).agentAlive()) members.get(m).clock().freeze();
  }

  @Override
  public void thawAgent(String m) {
    members.get(m).clock().thaw();
  }

  @Override
  public void killAgent(String m) {
    members.get(m).killAgent();
  }

  @Override
  public void startAgent(String m) {
    members.get(m).startAgent();
  }

  @Override
  public void killNode(String m) {
    members.get(m).killNode();
  }

  @Override
  public void bootNode(String m) {
    members.get(m).bootNode();
  }

  @Override
  public void partition(String m) {
    zk.partition(m);
  }

  @Override
  public void heal(String m) {
    zk.heal(m);
  }

  @Override
  public void outage() {
    zk.outage();
  }

  @Override
  public void recover() {
    zk.recover();
  }

  @Override
  public void crashPostmaster(String m) {
    members.get(m).pg().crash("postmaster crashed");
  }

  /**
   * A switchover request as the REST API accepts it (api/Candidates): there is a leader; a named candidate has a
   * member key and is not the leader; in synchronous mode it must be listed in {@code sync} (without a name, some
   * member must be). Refused requests are only logged, as the API's 412 would be.
   */
  @Override
  public void requestSwitchover(String candidate) {
    SimZooKeeper.Result leader = zk.peek(layout.leader());
    if (leader.code() != SimZooKeeper.Code.OK || !zk.up()) {
      sched.log("switchover request refused: no leader");
      return;
    }
    if (candidate != null && (candidate.equals(leader.data())
        || zk.peek(layout.member(candidate)).code() != SimZooKeeper.Code.OK)) {
      sched.log("switchover request refused: " + candidate + " is the leader or not a member");
      return;
    }
    SimZooKeeper.Result config = zk.peek(layout.config());
    boolean syncMode = config.code() == SimZooKeeper.Code.OK && config.data().contains("\"synchronous_mode\":true");
    if (syncMode) {
      SimZooKeeper.Result sync = zk.peek(layout.sync());
      String listed = sync.code() == SimZooKeeper.Code.OK ? sync.data() : "";
      boolean ok = candidate == null ? listed.contains("\"sync_standby\":\"") : listed.matches(
          ".*\"sync_standby\":\"([^\"]*,)?" + candidate + "(,[^\"]*)?\".*");
      if (!ok) {
        sched.log("switchover request refused: candidate name does not match with sync_standby");
        return;
      }
    }
    String json = "{\"leader\":\"" + leader.data() + "\"" + (candidate == null ? "" : ",\"member\":\"" + candidate
        + "\"") + "}";
    zk.adminPut(layout.failover(), json);
  }

  @Override
  public void healAll() {
    for (SimMember m : members.values()) {
      m.bootNode();
      m.startAgent();
      m.clock().thaw();
    }
    zk.healAll();
  }
}
