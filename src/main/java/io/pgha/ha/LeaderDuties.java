package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.decision.Decision;
import io.pgha.decision.Reason;
import io.pgha.ha.port.Dcs;
import io.pgha.postgres.Lsn;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The leader's duties of a cycle (keys, history, slots, synchronous replication), and slots made before a takeover. */
final class LeaderDuties {
  private final HaLoop loop;
  private final Dcs dcs;
  private final SlotDuties slots;
  /** The {@code status} value last written with slot fields (optime, slots, retain_slots), null: none yet. */
  private List<Object> lastSlotStatus;

  LeaderDuties(HaLoop loop) {
    this.loop = loop;
    this.dcs = loop.dcs;
    this.slots = new SlotDuties(loop);
  }

  CompletableFuture<Void> performDuties(Decision d) {
    var view = loop.view();
    boolean leading = d.reason() == Reason.LEADER_WITH_LOCK || d.reason() == Reason.PAUSED && view.leaderIsMe();
    if (!leading) {
      slots.notLeading();
      lastSlotStatus = null;
    }
    if (!leading && d.duties().isEmpty()) return Async.done();
    List<CompletableFuture<?>> work = new ArrayList<>();
    for (Decision.LeaderDuty duty : d.duties()) {
      if (duty instanceof Decision.LeaderDuty.WriteInitialize wi) {
        work.add(Async.of(dcs.writeInitialize(wi.sysid())));
      } else if (duty instanceof Decision.LeaderDuty.WriteConfig) {
        work.add(Async.of(dcs.createConfig(loop.config().bootstrap().dcs().toString())));
      } else if (duty instanceof Decision.LeaderDuty.WriteHistory) {
        work.add(writeHistory());
      } else if (duty instanceof Decision.LeaderDuty.WriteFailsafe wf) {
        work.add(loop.failsafe.writeKey(wf.topology()));
      } else if (duty instanceof Decision.LeaderDuty.SyncSlots) {
        // not joined: slot work never holds up the cycle; a failure is logged once and the next cycle tries again
        syncSlots().whenComplete((x, e) -> {
          if (e != null) slots.failed(e);
        });
      }
    }
    if (leading) {
      work.add(synchronousStep().exceptionally(e -> {
        LOG.warn("synchronous replication step failed: {}", Async.message(e));
        return null;
      }));
    }
    long optime = loop.local().lsn();
    if (leading) work.add(writeStatus(optime));
    return Async.join(work);
  }

  /**
   * {@code status}: the optime when it moved; with slot positions to publish (§10.4, from the previous slot look, so
   * this write waits for no slot work) the whole value whenever any part changed.
   */
  private CompletableFuture<Void> writeStatus(long optime) {
    Map<String, Long> published = slots.published();
    List<String> retain = slots.retainSlots();
    if (published.isEmpty() && retain.isEmpty() && lastSlotStatus == null) {
      if (optime == loop.state().lastPublishedOptime()) return Async.done();
      return Async.of(dcs.writeStatus(optime)).thenRun(() -> loop.update(b -> b.lastPublishedOptime(optime)));
    }
    List<Object> value = List.of(optime, published, retain);
    if (value.equals(lastSlotStatus)) return Async.done();
    return Async.of(dcs.writeStatus(optime, published, retain)).thenRun(() -> {
      lastSlotStatus = value;
      loop.update(b -> b.lastPublishedOptime(optime));
    });
  }

  private CompletableFuture<Void> synchronousStep() {
    if (!loop.view().leaderIsMe() || !loop.local().isRunningPrimary() || loop.local().task() != null) {
      return Async.done();
    }
    return loop.synchronous.step();
  }

  /** One slot change at a time: a takeover's early creation and the leader's duty must not both create a slot. */
  CompletableFuture<Void> syncSlots() {
    return syncSlots(loop.view().leaderIsMe() || switchoverNamesMe());
  }

  /** @param asLeader make the slots a leader keeps (for every member streaming from the leader), not a replica's */
  private CompletableFuture<Void> syncSlots(boolean asLeader) {
    CompletableFuture<Void> previous = loop.state().slotWork();
    // a cycle's look waits for no earlier one (the next cycle looks again); a takeover's slots follow it
    if (!asLeader && !previous.isDone()) return previous;
    CompletableFuture<Void> next = previous.handle((x, e) -> null).thenCompose(ignored -> slots.sync(asLeader));
    loop.update(b -> b.slotWork(next));
    return next;
  }

  /** A switchover names me: I am about to lead, so I keep (and make) the slots a leader keeps. */
  private boolean switchoverNamesMe() {
    var view = loop.view();
    return view.failover() != null && loop.me().equals(view.failover().candidate());
  }

  /**
   * The other members' slots, made on this standby before it takes the key: the followers re-point at the new
   * leader the moment they see the key, and a walreceiver whose slot does not exist yet (or is being created in our
   * session: "active for PID") gives up and waits wal_retrieve_retry_interval (5 s) before it tries again. A named
   * switchover candidate makes them as soon as it sees the request, while the old primary is still stopping.
   */
  CompletableFuture<Void> slotsBeforeTakeover(String why) {
    if (!loop.dynamic().useSlots() || !loop.local().isRunningReplica() || loop.view() == null) return Async.done();
    return syncSlots(true).exceptionally(e -> {
      LOG.warn("creating replication slots before the takeover ({}): {}", why, Async.message(e));
      return null;
    });
  }

  /** §3.6.3: history from the timeline history file; the newest entry names this member. */
  private CompletableFuture<Void> writeHistory() {
    int tl = loop.local().timeline();
    if (tl <= 1) return Async.of(dcs.writeHistory(List.of()));
    return Async.of(loop.pg.timelineHistory(tl)).thenCompose(text -> {
      if (text == null) return Async.done();
      String now = OffsetDateTime.ofInstant(Instant.ofEpochMilli(loop.clock.wallMs()), ZoneId.systemDefault()).toString();
      List<Dcs.HistoryEntry> history = new ArrayList<>();
      for (String raw : text.split("\n")) {
        String[] f = raw.trim().split("\t");
        if (f.length < 2 || f[0].startsWith("#")) continue;
        history.add(new Dcs.HistoryEntry(Integer.parseInt(f[0].trim()), Lsn.parse(f[1].trim()),
            f.length > 2 ? f[2].trim() : "", now, loop.me()));
      }
      return dcs.writeHistory(history);
    });
  }
}
