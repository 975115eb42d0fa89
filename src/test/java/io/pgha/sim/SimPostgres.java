package io.pgha.sim;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * One member's PostgreSQL: the postmaster (stopped, starting, running, stopping), its role (primary, or standby of an
 * upstream), the WAL it holds ({@link Wal}: positions, timelines and the branches behind them), promotion, crash,
 * stop modes, pg_rewind, pg_basebackup, streaming with a seeded lag, and synchronous commit.
 *
 * <p>A standby streams only while its WAL is a prefix of its upstream's: a standby that went past the point where
 * the upstream's timeline forked off its own stays running in recovery and never catches up (postgres' "requested
 * timeline is not a child of this server's history"), until it is rewound or cloned. A commit on a primary whose
 * {@code synchronous_standby_names} lists standbys is acknowledged only once one of them holds it.
 *
 * <p>Postgres is its own process: an agent freeze does not stop it, its timers run on true time.
 */
public final class SimPostgres {
  public enum Run { STOPPED, STARTING, RUNNING, STOPPING }

  public enum StopMode { SMART, FAST, IMMEDIATE }

  /** What the supervisor would observe of the postmaster. */
  public enum Event { STARTED, STOPPED, CRASHED, PROMOTED }

  /** Told once a commit is acknowledged; {@code bySyncStandby}: a synchronous standby held it first. */
  public interface Ack {
    void acked(long lsn, boolean bySyncStandby);
  }

  /** A commit a client waits on; {@code ack} is called once, or never when postgres goes down first. */
  record Pending(long lsn, int branch, Ack ack) {}

  private final SimScheduler sched;
  private final String name;
  private final Function<String, SimPostgres> peers;
  private java.util.function.Supplier<Set<String>> peerNames = Set::of;
  private final long startMsMax;
  private final long streamLagMsMax;
  private Consumer<Event> onEvent = e -> { };
  private Run run = Run.STOPPED;
  private boolean standby;
  private String upstream;
  private Wal wal;
  private String sysid;
  private boolean cleanShutdown = true;
  private boolean promoting;
  private boolean streaming;
  private long primarySinceMs = -1;
  private Set<String> syncStandbys = Set.of();
  private int syncCount = 1;
  private long pid;
  private final List<Pending> pending = new ArrayList<>();
  private int incarnation;
  private SimScheduler.Event streamer;

  public SimPostgres(SimScheduler sched, String name, Function<String, SimPostgres> peers, long startMsMax,
      long streamLagMsMax) {
    this.sched = sched;
    this.name = name;
    this.peers = peers;
    this.startMsMax = startMsMax;
    this.streamLagMsMax = streamLagMsMax;
  }

  /** Every member's name, for {@code synchronous_standby_names = '*'}. */
  public void peerNames(java.util.function.Supplier<Set<String>> names) {
    peerNames = names;
  }

  private Set<String> allPeers() {
    return peerNames.get();
  }

  public void onEvent(Consumer<Event> listener) {
    onEvent = listener;
  }

  // ---- observation ----

  public String name() {
    return name;
  }

  public Run run() {
    return run;
  }

  public boolean running() {
    return run == Run.RUNNING;
  }

  /** May accept writes now: running, out of recovery. */
  public boolean writable() {
    return run == Run.RUNNING && !standby;
  }

  public boolean inRecovery() {
    return standby;
  }

  public boolean promoting() {
    return promoting;
  }

  public String upstream() {
    return standby ? upstream : null;
  }

  /** A standby whose walreceiver is connected to its upstream and catching up. */
  public boolean streaming() {
    return run == Run.RUNNING && standby && streaming;
  }

  public Wal wal() {
    return wal;
  }

  public boolean hasData() {
    return wal != null;
  }

  public long lsn() {
    return wal == null ? 0 : wal.endLsn();
  }

  public int timeline() {
    return wal == null ? 0 : wal.timeline();
  }

  public String sysid() {
    return sysid;
  }

  public boolean cleanShutdown() {
    return cleanShutdown;
  }

  /** Data directory role while down: true when pg_control says it was a standby. */
  public boolean dataIsStandby() {
    return standby;
  }

  public long primarySinceMs() {
    return primarySinceMs;
  }

  public Set<String> syncStandbys() {
    return syncStandbys;
  }

  // ---- operations ----

  /** initdb: a new cluster with a fresh system id, stopped. */
  public void initdb() {
    requireStopped("initdb");
    wal = Wal.initdb(sched.nextId());
    sysid = "7" + String.format("%018d", Math.floorMod(sched.random().nextLong(), 1_000_000_000_000_000_000L));
    standby = false;
    cleanShutdown = true;
    sched.log(name + " pg initdb sysid=" + sysid);
  }

  /** Starts the postmaster, as a primary or as a standby of {@code upstreamName} (null: no upstream). */
  public void start(boolean asStandby, String upstreamName, Consumer<Boolean> done) {
    if (run != Run.STOPPED || wal == null) {
      sched.after(1, null, () -> done.accept(false));
      return;
    }
    run = Run.STARTING;
    pid = 10_000 + sched.nextId();
    if (standby && !asStandby) {
      // a standby's data directory started without standby.signal: crash recovery, then new writes of its own on
      // the same timeline number (no promotion, no new timeline): bytes nobody else has
      wal = wal.fork(sched.nextId(), wal.timeline());
    }
    standby = asStandby;
    upstream = upstreamName;
    streaming = false;
    int inc = ++incarnation;
    sched.log(name + " pg starting as " + (asStandby ? "standby of " + upstreamName : "primary"));
    sched.after(sched.delay(10, startMsMax), name + " pg started", () -> {
      if (inc != incarnation || run != Run.STARTING) {
        done.accept(false);
        return;
      }
      run = Run.RUNNING;
      cleanShutdown = false;
      if (!standby) {
        primarySinceMs = sched.nowMs();
      } else {
        scheduleStream();
      }
      onEvent.accept(Event.STARTED);
      done.accept(true);
    });
  }

  /** Stops the postmaster; FAST and SMART end with a clean shutdown, IMMEDIATE does not. */
  public void stop(StopMode mode, Consumer<Boolean> done) {
    if (run == Run.STOPPED) {
      sched.after(1, null, () -> done.accept(true));
      return;
    }
    int inc = ++incarnation;
    failPending("stopping");
    if (mode == StopMode.IMMEDIATE) {
      down(false, Event.STOPPED, "immediate stop");
      sched.after(1, null, () -> done.accept(true));
      return;
    }
    run = Run.STOPPING;
    sched.after(sched.delay(5, 200), name + " pg stopped (" + mode + ")", () -> {
      if (inc == incarnation && run == Run.STOPPING) down(true, Event.STOPPED, mode + " stop");
      done.accept(run == Run.STOPPED);
    });
  }

  /** The postmaster dies (OOM killer, SIGKILL, the fencing guard, the node going down). */
  public void crash(String why) {
    if (run == Run.STOPPED) return;
    ++incarnation;
    failPending("crash");
    down(false, Event.CRASHED, why);
  }

  private void down(boolean clean, Event event, String why) {
    run = Run.STOPPED;
    promoting = false;
    streaming = false;
    primarySinceMs = -1;
    cleanShutdown = clean;
    if (streamer != null) streamer.cancel();
    sched.log(name + " pg down: " + why + (clean ? " (clean)" : " (unclean)"));
    onEvent.accept(event);
  }

  /** Promotes a running standby: a new timeline forks at its WAL end after a seeded delay. */
  public void promote(Consumer<Boolean> done) {
    if (run != Run.RUNNING || !standby || promoting) {
      sched.after(1, null, () -> done.accept(run == Run.RUNNING && !standby));
      return;
    }
    promoting = true;
    int inc = incarnation;
    sched.after(sched.delay(5, 150), name + " pg promoted", () -> {
      if (inc != incarnation || !promoting) {
        done.accept(false);
        return;
      }
      promoting = false;
      standby = false;
      streaming = false;
      upstream = null;
      if (streamer != null) streamer.cancel();
      wal = wal.fork(sched.nextId(), wal.timeline() + 1);
      primarySinceMs = sched.nowMs();
      sched.log(name + " pg now primary on timeline " + wal.timeline() + " wal=" + wal);
      onEvent.accept(Event.PROMOTED);
      done.accept(true);
    });
  }

  /** Points a running standby at another upstream (primary_conninfo + reload). */
  public void follow(String upstreamName) {
    if (!standby) return;
    upstream = upstreamName;
    streaming = false;
    if (run == Run.RUNNING) scheduleStream();
  }

  /** Single-user crash recovery: a data directory that was not shut down cleanly becomes clean. */
  public void crashRecovery() {
    requireStopped("crash recovery");
    cleanShutdown = true;
  }

  /**
   * pg_rewind from a running {@code source}: needs a clean target, the same system id and a shared history; the
   * target then holds the source's WAL and starts as a standby. Returns false when it cannot.
   */
  public boolean rewind(String sourceName) {
    requireStopped("rewind");
    SimPostgres src = peers.apply(sourceName);
    if (src == null || src.run != Run.RUNNING || wal == null || !cleanShutdown || !sysid.equals(src.sysid)
        || wal.commonPrefix(src.wal) == 0) {
      sched.log(name + " pg_rewind from " + sourceName + " failed");
      return false;
    }
    sched.log(name + " pg_rewind from " + sourceName + ": fork at " + wal.commonPrefix(src.wal) + ", was " + wal);
    wal = src.wal;
    standby = true;
    return true;
  }

  /** pg_basebackup from a running {@code source}: a copy of its WAL and system id, as a standby. */
  public boolean cloneFrom(String sourceName) {
    requireStopped("clone");
    SimPostgres src = peers.apply(sourceName);
    if (src == null || src.run != Run.RUNNING) return false;
    wal = src.wal;
    sysid = src.sysid;
    standby = true;
    cleanShutdown = false;
    sched.log(name + " pg cloned from " + sourceName);
    return true;
  }

  public void wipe() {
    requireStopped("wipe");
    wal = null;
    sysid = null;
    standby = false;
  }

  /** {@code synchronous_standby_names} (reload): commits wait for one of these ("*": any standby). */
  public void setSyncStandbys(Set<String> names) {
    setSyncStandbys(names, 1);
  }

  /** {@code synchronous_standby_names = 'count (names)'}: commits wait for {@code count} of them. */
  public void setSyncStandbys(Set<String> names, int count) {
    syncStandbys = Set.copyOf(new LinkedHashSet<>(names));
    syncCount = Math.max(1, count);
    ackPending();
  }

  /** The postmaster's pid while one runs, else 0. */
  public long pid() {
    return run == Run.STOPPED ? 0 : pid;
  }

  /**
   * A client's commit: appended to the WAL now; {@code acked} gets its LSN once it is durable as configured (at
   * once, or when a synchronous standby holds it). False when postgres does not take writes.
   */
  public boolean commit(Ack acked) {
    if (!writable()) return false;
    wal = wal.append(1);
    long lsn = wal.endLsn();
    Pending p = new Pending(lsn, wal.branch(), acked);
    if (syncStandbys.isEmpty()) {
      acked.acked(lsn, false);
    } else {
      pending.add(p);
    }
    return true;
  }

  /** The branch the last commit went to (for the ledger). */
  public int branch() {
    return wal == null ? 0 : wal.branch();
  }

  private void failPending(String why) {
    if (!pending.isEmpty()) sched.log(name + " pg " + pending.size() + " commits unacknowledged: " + why);
    pending.clear();
  }

  private void ackPending() {
    if (pending.isEmpty()) return;
    if (syncStandbys.isEmpty()) {
      // synchronous_standby_names cleared: waiting backends are released
      for (Pending p : List.copyOf(pending)) p.ack.acked(p.lsn, false);
      pending.clear();
      return;
    }
    List<Pending> done = new ArrayList<>();
    List<SimPostgres> mine = new ArrayList<>();
    for (String s : syncStandbys) {
      if (s.equals("*")) continue;
      SimPostgres st = peers.apply(s);
      if (st != null && st.streaming() && name.equals(st.upstream)) mine.add(st);
    }
    if (syncStandbys.contains("*")) {
      mine.clear();
      for (String s : allPeers()) {
        SimPostgres st = peers.apply(s);
        if (st != null && st != this && st.streaming() && name.equals(st.upstream)) mine.add(st);
      }
    }
    for (Pending p : pending) {
      int holding = 0;
      for (SimPostgres st : mine) {
        if (st.wal.holds(p.branch, p.lsn)) holding++;
      }
      if (holding >= syncCount) done.add(p);
    }
    pending.removeAll(done);
    for (Pending p : done) p.ack.acked(p.lsn, true);
  }

  // ---- streaming ----

  private void scheduleStream() {
    if (streamer != null) streamer.cancel();
    int inc = incarnation;
    streamer = sched.after(sched.delay(1, streamLagMsMax), null, () -> {
      if (inc != incarnation || run != Run.RUNNING || !standby) return;
      pull();
      scheduleStream();
    });
  }

  private void pull() {
    SimPostgres up = upstream == null ? null : peers.apply(upstream);
    boolean can = up != null && up.run == Run.RUNNING && up.wal != null && sysid.equals(up.sysid)
        && wal.prefixOf(up.wal);
    if (can != streaming) sched.log(name + " pg " + (can ? "streaming from " + upstream : "not streaming from "
        + upstream + (up != null && up.wal != null && !wal.prefixOf(up.wal) ? ": diverged, mine " + wal + " theirs "
        + up.wal : "")));
    streaming = can;
    if (!can) return;
    if (up.wal.endLsn() > wal.endLsn() || !up.wal.equals(wal)) wal = up.wal;
    up.ackPending();
  }

  private void requireStopped(String what) {
    if (run != Run.STOPPED) throw new IllegalStateException(what + " while postgres runs on " + name);
  }

  /** Test and fault-plan helper: sets up a data directory without running initdb (e.g. a copy of another's). */
  void adopt(Wal w, String sys, boolean asStandby) {
    requireStopped("adopt");
    wal = w;
    sysid = sys;
    standby = asStandby;
  }
}
