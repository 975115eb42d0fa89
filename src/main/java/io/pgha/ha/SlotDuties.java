package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.config.HostPort;
import io.pgha.config.SlotsConfig;
import io.pgha.config.SlotsConfigJson;
import io.pgha.decision.Action;
import io.pgha.decision.ClusterView;
import io.pgha.decision.PgRunState;
import io.pgha.decision.SlotPlan;
import io.pgha.decision.Task;
import io.pgha.ha.port.Dcs;
import io.pgha.postgres.PgStatus;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * The replication slots of this member, each cycle (patroni-compat §10.4): reads {@code pg_replication_slots}, asks
 * {@link SlotPlan} what to change, applies it; as leader, keeps what goes into {@code status.slots} and
 * {@code status.retain_slots}; as a replica, copies a permanent logical slot it lacks from the primary (a restart,
 * as Patroni's {@code copy_logical_slots}). A failure is logged once and the next cycle tries again; nothing here
 * changes what the HA core decides. Touched only on the loop's context.
 */
final class SlotDuties {
  private static final int PG_11 = 110000;
  /**
   * A slot copied (a restart) is copied again no sooner than this, doubled after each copy up to 30 min: a copy that
   * cannot be used (the primary's slot needs WAL this replica never had) must not restart postgres every cycle.
   */
  static final long COPY_AGAIN_AFTER_MS = 60_000L;
  static final long COPY_AGAIN_AFTER_MAX_MS = 30 * 60_000L;

  private final HaLoop loop;
  private String configRaw;
  private SlotsConfig config = SlotsConfig.DEFAULT;
  private Map<String, Long> published = Map.of();
  private Map<String, Long> retainSeenMs = new TreeMap<>();
  private boolean retainSeeded;
  private final Map<String, Set<String>> lastFailures = new TreeMap<>();
  private boolean copying;
  /** Per slot: when it may be copied again, and the wait after the next copy. */
  private final Map<String, long[]> copyAgain = new TreeMap<>();

  SlotDuties(HaLoop loop) {
    this.loop = loop;
  }

  /** {@code status.slots} to publish while leading (empty otherwise or before the first look). */
  Map<String, Long> published() {
    return published;
  }

  /** {@code status.retain_slots} to publish while leading. */
  List<String> retainSlots() {
    return new ArrayList<>(retainSeenMs.keySet());
  }

  /** We lead no more: what we would publish goes, and a later term starts from the key's {@code retain_slots}. */
  void notLeading() {
    published = Map.of();
    retainSeenMs = new TreeMap<>();
    retainSeeded = false;
  }

  /** @param asLeader keep the slots a leader keeps (also a standby about to take over) */
  CompletableFuture<Void> sync(boolean asLeader) {
    ClusterView view = loop.view();
    var local = loop.local();
    if (view == null || !(local.isRunningPrimary() || local.isRunningReplica())) return Async.done();
    SlotsConfig cfg = config();
    PgStatus st = loop.state().pgStatus();
    boolean canAdvance = st != null && st.serverVersion() >= PG_11;
    boolean primary = local.isRunningPrimary();
    Dcs.SlotStatus status = loop.dcs.slotStatus();
    return Async.of(loop.pg.replicationSlots()).thenCompose(existing -> {
      var in = new SlotPlan.Inputs(view, loop.me(), asLeader, loop.settings().nofailover(), canAdvance, cfg,
          status.slots(), status.retainSlots());
      Map<String, SlotPlan.Wanted> wanted = SlotPlan.wanted(in);
      boolean clean = view.hasLeader() && (!view.leaderIsMe() || primary);
      List<SlotPlan.Op> ops = SlotPlan.ops(wanted, existing, cfg, primary, st == null ? 0 : st.replayLsn(),
          canAdvance, loop.dynamic().pause(), clean);
      if (asLeader && primary && view.leaderIsMe()) publish(wanted, existing, cfg, canAdvance, status, view);
      List<String> copies = new ArrayList<>();
      for (SlotPlan.Op op : ops) {
        if (op instanceof SlotPlan.Copy c) copies.add(c.slot());
        else if (!(op instanceof SlotPlan.Advance)) LOG.info("replication slots: {}", op);
      }
      return Async.of(loop.pg.applySlotOps(ops)).thenAccept(failures -> {
        logOnce("ops", failures.stream().map(SlotPlan.Failure::message).toList());
        // a logical slot whose WAL is gone here cannot be advanced: copy it afresh (Patroni's SlotsAdvanceThread)
        for (SlotPlan.Failure f : failures) {
          if (f.walGone() && f.op() instanceof SlotPlan.Advance a && a.database() != null) copies.add(a.slot());
        }
        if (!copies.isEmpty() && !asLeader && !primary) copyLogicalSlots(copies);
      });
    });
  }

  private void publish(Map<String, SlotPlan.Wanted> wanted, List<SlotPlan.Existing> existing, SlotsConfig cfg,
      boolean canAdvance, Dcs.SlotStatus status, ClusterView view) {
    long now = loop.clock.wallMs();
    if (!retainSeeded) {
      status.retainSlots().forEach(name -> retainSeenMs.put(name, now));
      retainSeeded = true;
    }
    published = SlotPlan.published(wanted, existing, loop.me(), loop.local().lsn(), cfg, canAdvance);
    Map<String, Long> before = retainSeenMs;
    retainSeenMs = SlotPlan.retain(before, published.keySet(), view, loop.me(), cfg, now);
    for (String gone : before.keySet()) {
      if (!retainSeenMs.containsKey(gone)) {
        LOG.info("Replication slot '{}' for absent cluster member is expired after {} ms", gone,
            cfg.memberSlotsTtlMs());
      }
    }
  }

  private SlotsConfig config() {
    var dynamic = loop.dynamic();
    String raw = dynamic == null ? null : dynamic.raw();
    if (!Objects.equals(raw, configRaw)) {
      configRaw = raw;
      config = SlotsConfigJson.parse(dynamic);
      config.errors().forEach(e -> LOG.error("replication slots configuration: {}", e));
    }
    return config;
  }

  /** The slot look itself failed (postgres down, a query timed out). */
  void failed(Throwable e) {
    logOnce("look", List.of("reading or changing the slots: " + Async.message(e)));
  }

  /** Logs each failure of one kind once, until that kind succeeds or fails otherwise. */
  private void logOnce(String kind, List<String> failures) {
    Set<String> now = new LinkedHashSet<>(failures);
    Set<String> before = lastFailures.getOrDefault(kind, Set.of());
    for (String f : now) {
      if (!before.contains(f)) LOG.warn("replication slots: {} (tried again each cycle)", f);
    }
    lastFailures.put(kind, now);
  }

  /**
   * Patroni's {@code copy_logical_slots}: the primary's {@code pg_replslot/<name>/state} read over SQL, postgres
   * stopped, the files written, postgres started again (a restart task, so the core waits for it). The slots are
   * advanced from the next cycle on.
   */
  private void copyLogicalSlots(List<String> names) {
    var local = loop.local();
    ClusterView view = loop.view();
    if (copying || local.task() != null || !local.isRunningReplica() || view == null || !view.hasLeader()
        || view.leaderIsMe()) {
      return;
    }
    HostPort leader = loop.memberAddress(view.leader());
    if (leader == null) return;
    long nowMs = loop.clock.wallMs();
    List<String> due = names.stream().distinct().filter(n -> {
      long[] again = copyAgain.get(n);
      return again == null || nowMs >= again[0];
    }).toList();
    if (due.isEmpty()) {
      logOnce("copy", List.of("logical slots " + names + " were copied a moment ago and need copying again;"
          + " waiting before the next restart"));
      return;
    }
    String upstream = local.upstream();
    copying = true;
    Async.of(loop.pg.readLogicalSlotStates(leader, due)).thenCompose(states -> {
      var now = loop.local();
      if (states.isEmpty() || now.task() != null || !now.isRunningReplica()) return Async.done();
      LOG.info("Copying logical slots {} from the primary {} (postgres restarts)", states.keySet(), view.leader());
      states.keySet().forEach(n -> {
        long wait = copyAgain.containsKey(n) ? copyAgain.get(n)[1] : COPY_AGAIN_AFTER_MS;
        copyAgain.put(n, new long[] {nowMs + wait, Math.min(2 * wait, COPY_AGAIN_AFTER_MAX_MS)});
      });
      loop.local(now.toBuilder().pg(PgRunState.STOPPING).build());
      CompletableFuture<Void> work = loop.stopPostgres(Action.StopMode.FAST, 0)
          .thenCompose(v -> Async.of(loop.pg.writeSlotStates(states)).handle((x, e) -> e))
          .thenCompose(writeError -> Async.of(loop.startPostgres(loop.recoveryFor(upstream)))
              .thenAccept(ready -> {
                loop.local(loop.local().toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING)
                    .crashed(false).build());
                if (writeError != null) throw new IllegalStateException("writing the slot files: "
                    + Async.message(writeError));
              }));
      return loop.runTask(Task.RESTART, work);
    }).whenComplete((v, e) -> {
      copying = false;
      logOnce("copy", e == null ? List.of() : List.of("copying logical slots " + due + ": " + Async.message(e)));
    });
  }
}
