package io.pgha.sim;

import io.pgha.config.DynamicConfig;
import io.pgha.config.HostPort;
import io.pgha.config.PghaConfig;
import io.pgha.decision.Action;
import io.pgha.decision.DataDirState;
import io.pgha.decision.SlotPlan;
import io.pgha.decision.SyncPlanner;
import io.pgha.model.NodeStatus;
import io.pgha.ha.port.Postgres;
import io.pgha.postgres.PgStatus;
import io.pgha.postgres.PostmasterEvent;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The {@link Postgres} port over {@link SimPostgres}: one agent process's handle on its postgres and on the other
 * members' postgres (by the host of their connect address, which is the member's name in the simulation). Every
 * stage completes through the agent's clock gate, after a seeded latency; postmaster exits come as inputs.
 */
public final class SimPostgresPort implements Postgres {
  private final SimScheduler sched;
  private final SimClock clock;
  private final SimPostgres pg;
  private final Function<String, SimPostgres> peers;
  private final int gen;
  private Consumer<PostmasterEvent> onPostmaster = e -> { };
  private Written written;
  private Recovery pendingRecovery;
  private Map<String, String> pendingParams;
  private long watchedPid;
  private boolean closed;

  public SimPostgresPort(SimClock clock, SimPostgres pg, Function<String, SimPostgres> peers, SimScheduler sched) {
    this.sched = sched;
    this.clock = clock;
    this.pg = pg;
    this.peers = peers;
    this.gen = clock.generation();
    pg.onEvent(this::event);
  }

  /** Where postmaster events go (the loop's input). */
  public void sink(Consumer<PostmasterEvent> events) {
    onPostmaster = events;
  }

  private void event(SimPostgres.Event e) {
    if (closed || e == SimPostgres.Event.PROMOTED || e == SimPostgres.Event.STARTED) return;
    long pid = watchedPid;
    watchedPid = 0;
    PostmasterEvent pe = new PostmasterEvent(pid, false, e == SimPostgres.Event.STOPPED, e == SimPostgres.Event.STOPPED
        ? 0 : -9);
    clock.deliver(gen, () -> onPostmaster.accept(pe));
  }

  private <T> CompletableFuture<T> later(long delayMs, java.util.function.Supplier<T> work) {
    CompletableFuture<T> f = new CompletableFuture<>();
    sched.after(Math.max(1, delayMs), null, () -> {
      T value;
      RuntimeException failure = null;
      try {
        value = work.get();
      } catch (RuntimeException e) {
        value = null;
        failure = e;
      }
      T v = value;
      RuntimeException err = failure;
      clock.deliver(gen, () -> {
        if (err != null) f.completeExceptionally(err);
        else f.complete(v);
      });
    });
    return f;
  }

  private <T> CompletableFuture<T> quick(java.util.function.Supplier<T> work) {
    return later(sched.delay(1, 5), work);
  }

  private static RuntimeException fail(String why) {
    return new IllegalStateException(why);
  }

  private SimPostgres peer(HostPort hp) {
    SimPostgres p = hp == null ? null : peers.apply(hp.host());
    if (p == null) throw fail("no such member " + hp);
    return p;
  }

  // ---- the postmaster ----

  @Override
  public boolean postmasterAlive() {
    return pg.run() != SimPostgres.Run.STOPPED;
  }

  @Override
  public long postmasterPid() {
    return pg.pid();
  }

  @Override
  public CompletionStage<String> readiness() {
    return quick(() -> switch (pg.run()) {
      case RUNNING -> pg.inRecovery() ? "standby" : "ready";
      case STARTING -> "starting";
      case STOPPING -> "stopping";
      case STOPPED -> null;
    });
  }

  @Override
  public CompletionStage<Boolean> adoptRunning() {
    return quick(() -> {
      if (pg.run() == SimPostgres.Run.STOPPED) return false;
      watchedPid = pg.pid();
      return true;
    });
  }

  @Override
  public CompletionStage<DataDir> inspectDataDir() {
    return quick(() -> {
      if (!pg.hasData()) return new DataDir(DataDirState.EMPTY, null, false, 0);
      return new DataDir(pg.dataIsStandby() ? DataDirState.REPLICA : DataDirState.PRIMARY, pg.sysid(),
          pg.cleanShutdown(), pg.lsn());
    });
  }

  @Override
  public CompletionStage<PgStatus> status() {
    return quick(() -> {
      if (pg.run() != SimPostgres.Run.RUNNING) throw fail("postgres is not running");
      List<NodeStatus.ReplicationRow> rows = new ArrayList<>();
      for (Standby s : standbys()) {
        rows.add(new NodeStatus.ReplicationRow("replicator", s.name, s.name, "streaming", s.syncState, 0));
      }
      return new PgStatus(pg.inRecovery(), pg.lsn(), pg.lsn(), pg.lsn(), null, false, pg.timeline(), pg.sysid(),
          "2026-12-05 00:00:00+00", 150_000, pg.streaming() ? "streaming" : null, rows);
    });
  }

  private record Standby(String name, String syncState, long flushLsn) {}

  private List<Standby> standbys() {
    List<Standby> out = new ArrayList<>();
    if (pg.run() != SimPostgres.Run.RUNNING || pg.inRecovery()) return out;
    Set<String> sync = pg.syncStandbys();
    for (String name : new ArrayList<>(peerNames())) {
      SimPostgres p = peers.apply(name);
      if (p == null || p == pg || !p.streaming() || !pg.name().equals(p.upstream())) continue;
      boolean listed = sync.contains(name) || sync.contains("*");
      out.add(new Standby(name, listed ? "sync" : "async", p.lsn()));
    }
    return out;
  }

  private Set<String> names = Set.of();

  /** Every member's name (for the primary's pg_stat_replication). */
  public void peerNames(Set<String> all) {
    names = all;
  }

  private Set<String> peerNames() {
    return names;
  }

  @Override
  public Map<String, String> parameters(PghaConfig config, DynamicConfig dynamic) {
    Map<String, String> p = new TreeMap<>();
    p.put("hot_standby", "on");
    p.put("wal_level", "replica");
    p.put("max_wal_senders", "10");
    return p;
  }

  @Override
  public Written lastWritten() {
    return written;
  }

  @Override
  public CompletionStage<Boolean> start(Map<String, String> params, Recovery recovery) {
    if (pg.run() != SimPostgres.Run.STOPPED) return CompletableFuture.failedFuture(fail("postgres is running"));
    if (!pg.hasData()) return CompletableFuture.failedFuture(fail("no data directory"));
    written = new Written(Map.copyOf(params), true);
    applySync(params);
    CompletableFuture<Boolean> f = new CompletableFuture<>();
    boolean asStandby = recovery != null;
    pg.start(asStandby, recovery == null ? null : recovery.host(), ok -> clock.deliver(gen, () -> f.complete(ok)));
    watchedPid = pg.pid();
    if (pg.run() == SimPostgres.Run.STARTING) {
      // as PostgresSupervisor does: "alive" the moment the postmaster is spawned, long before it is ready
      PostmasterEvent spawned = new PostmasterEvent(watchedPid, true, true, 0);
      clock.deliver(gen, () -> onPostmaster.accept(spawned));
    }
    return f;
  }

  @Override
  public CompletionStage<Void> stop(Action.StopMode mode, long escalateAfterMs) {
    CompletableFuture<Void> f = new CompletableFuture<>();
    SimPostgres.StopMode m = switch (mode) {
      case SMART -> SimPostgres.StopMode.SMART;
      case FAST -> SimPostgres.StopMode.FAST;
      case IMMEDIATE -> SimPostgres.StopMode.IMMEDIATE;
    };
    pg.stop(m, ok -> clock.deliver(gen, () -> f.complete(null)));
    return f;
  }

  @Override
  public CompletionStage<Void> initdb() {
    return later(sched.delay(100, 1000), () -> {
      pg.initdb();
      return null;
    });
  }

  @Override
  public CompletionStage<Void> createBootstrapRoles() {
    return quick(() -> {
      if (!pg.writable()) throw fail("postgres is not a running primary");
      return null;
    });
  }

  @Override
  public CompletionStage<Void> postBootstrapScript() {
    return quick(() -> null);
  }

  @Override
  public CompletionStage<Void> moveDataDirAside() {
    return quick(() -> {
      if (pg.run() == SimPostgres.Run.STOPPED) pg.wipe();
      return null;
    });
  }

  @Override
  public CompletionStage<Void> basebackup(HostPort source) {
    return later(sched.delay(200, 3000), () -> {
      SimPostgres src = peer(source);
      if (pg.run() != SimPostgres.Run.STOPPED) throw fail("postgres runs");
      if (!pg.cloneFrom(src.name())) throw fail("pg_basebackup from " + source.host() + " failed");
      return null;
    });
  }

  @Override
  public CompletionStage<Void> crashRecovery(Map<String, String> params) {
    return later(sched.delay(50, 500), () -> {
      if (pg.run() != SimPostgres.Run.STOPPED) throw fail("postgres runs");
      if (!pg.hasData()) throw fail("no data directory");
      pg.crashRecovery();
      return null;
    });
  }

  @Override
  public CompletionStage<Void> rewind(HostPort source, boolean dryRun) {
    return later(sched.delay(50, 1000), () -> {
      SimPostgres src = peer(source);
      if (pg.run() != SimPostgres.Run.STOPPED) throw fail("postgres runs");
      if (src.run() != SimPostgres.Run.RUNNING) throw fail("source " + source.host() + " is not running");
      if (dryRun) {
        if (pg.wal() != null && pg.wal().prefixOf(src.wal())) return null;
        throw fail("pg_rewind --dry-run: this data directory must be rewound");
      }
      if (!pg.rewind(src.name())) throw fail("pg_rewind from " + source.host() + " failed");
      return null;
    });
  }

  @Override
  public CompletionStage<Void> wipeDataDir() {
    return quick(() -> {
      if (pg.run() != SimPostgres.Run.STOPPED) throw fail("postgres runs");
      pg.wipe();
      return null;
    });
  }

  @Override
  public CompletionStage<Void> writeConfig(Map<String, String> params, Recovery recovery) {
    sched.log(pg.name() + " port writeConfig " + describe(params, recovery));
    return quick(() -> {
      written = new Written(Map.copyOf(params), true);
      pendingParams = params;
      pendingRecovery = recovery;
      return null;
    });
  }

  @Override
  public CompletionStage<Void> reload() {
    return quick(() -> {
      if (pg.run() != SimPostgres.Run.RUNNING) throw fail("postgres is not running");
      if (pendingParams != null) sched.log(pg.name() + " port reload " + describe(pendingParams, pendingRecovery));
      if (pendingParams != null) applySync(pendingParams);
      if (pendingRecovery != null && pg.inRecovery()) pg.follow(pendingRecovery.host());
      pendingParams = null;
      pendingRecovery = null;
      return null;
    });
  }

  private static String describe(Map<String, String> params, Recovery recovery) {
    return (recovery == null ? "primary" : "upstream=" + recovery.host()) + " ssn='"
        + params.getOrDefault("synchronous_standby_names", "") + "'";
  }

  private void applySync(Map<String, String> params) {
    String ssn = params.getOrDefault("synchronous_standby_names", "").trim();
    if (ssn.isEmpty()) {
      pg.setSyncStandbys(Set.of(), 1);
      return;
    }
    int count = 1;
    String list = ssn;
    int paren = ssn.indexOf('(');
    if (paren > 0) {
      String head = ssn.substring(0, paren).trim().replace("FIRST", "").replace("ANY", "").trim();
      count = head.isEmpty() ? 1 : Integer.parseInt(head);
      list = ssn.substring(paren + 1, ssn.lastIndexOf(')'));
    }
    Set<String> names = new LinkedHashSet<>();
    for (String n : list.split(",")) names.add(n.trim().replace("\"", ""));
    pg.setSyncStandbys(names, count);
  }

  @Override
  public CompletionStage<Void> promote() {
    CompletableFuture<Void> f = new CompletableFuture<>();
    pg.promote(ok -> clock.deliver(gen, () -> {
      if (ok) f.complete(null);
      else f.completeExceptionally(fail("promote failed"));
    }));
    return f;
  }

  @Override
  public CompletionStage<Void> checkpoint() {
    return quick(() -> {
      if (pg.run() != SimPostgres.Run.RUNNING) throw fail("postgres is not running");
      return null;
    });
  }

  // the simulation models no replication slots: these answer at once and draw nothing from the schedule
  @Override
  public CompletionStage<List<SlotPlan.Existing>> replicationSlots() {
    return CompletableFuture.completedFuture(List.of());
  }

  @Override
  public CompletionStage<List<SlotPlan.Failure>> applySlotOps(List<SlotPlan.Op> ops) {
    return CompletableFuture.completedFuture(List.of());
  }

  @Override
  public CompletionStage<Map<String, byte[]>> readLogicalSlotStates(HostPort leader, List<String> names) {
    return CompletableFuture.completedFuture(Map.of());
  }

  @Override
  public CompletionStage<Void> writeSlotStates(Map<String, byte[]> states) {
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public CompletionStage<String> timelineHistory(int timeline) {
    return quick(() -> {
      if (pg.wal() == null || timeline > pg.timeline()) return null;
      StringBuilder b = new StringBuilder();
      for (String line : pg.wal().historyText().split("\n")) {
        if (line.isBlank()) continue;
        if (Integer.parseInt(line.substring(0, line.indexOf('\t'))) < timeline) b.append(line).append('\n');
      }
      return b.toString();
    });
  }

  @Override
  public CompletionStage<Map<String, PendingSetting>> pendingRestart() {
    return quick(Map::of);
  }

  @Override
  public CompletionStage<SyncSnapshot> syncSnapshot() {
    return quick(() -> {
      if (pg.run() != SimPostgres.Run.RUNNING) throw fail("postgres is not running");
      List<SyncPlanner.Standby> list = new ArrayList<>();
      for (Standby s : standbys()) list.add(new SyncPlanner.Standby(s.name, "streaming", s.syncState, s.flushLsn));
      String ssn = written == null ? "" : written.params().getOrDefault("synchronous_standby_names", "");
      return new SyncSnapshot(list, pg.lsn(), ssn);
    });
  }

  @Override
  public CompletionStage<Void> nudgeWal() {
    return quick(() -> null);
  }

  @Override
  public CompletionStage<Long> receivedLsn(HostPort member) {
    return quick(() -> {
      SimPostgres p = peer(member);
      if (p.run() != SimPostgres.Run.RUNNING) throw fail(member.host() + " is not running");
      return p.lsn();
    });
  }

  @Override
  public CompletionStage<WalPosition> identifySystem(HostPort member) {
    return quick(() -> {
      SimPostgres p = peer(member);
      if (p.run() != SimPostgres.Run.RUNNING) throw fail(member.host() + " is not running");
      return new WalPosition(p.timeline(), p.lsn());
    });
  }

  @Override
  public CompletionStage<LeaderTimeline> leaderTimeline(HostPort leader) {
    return quick(() -> {
      SimPostgres p = peer(leader);
      if (p.run() != SimPostgres.Run.RUNNING) throw fail(leader.host() + " is not running");
      return new LeaderTimeline(p.timeline(), p.wal().historyText());
    });
  }

  @Override
  public void close() {
    closed = true;
  }
}
