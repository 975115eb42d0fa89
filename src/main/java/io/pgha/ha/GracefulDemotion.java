package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.config.HostPort;
import io.pgha.decision.Action;
import io.pgha.decision.DataDirState;
import io.pgha.decision.Decision;
import io.pgha.decision.PgRunState;
import io.pgha.decision.Switchover;
import io.pgha.decision.Task;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.Postgres;
import java.util.ArrayList;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;

/**
 * §3.8 the old primary's side of a switchover: a checkpoint, the fast stop, then {@link Switchover#afterStop} decides
 * between handing the key over (after writing the final WAL position) and staying the leader.
 */
final class GracefulDemotion {
  /**
   * How often a switchover asks its candidate for its received WAL position. A poll, because that position is a
   * remote postgres's and no event tells us it moved.
   */
  private static final long SWITCHOVER_POLL_MS = 20;

  private final HaLoop loop;
  private final Postgres pg;
  private final Clock clock;

  GracefulDemotion(HaLoop loop) {
    this.loop = loop;
    this.pg = loop.pg;
    this.clock = loop.clock;
  }

  /**
   * A checkpoint first (so the fast stop is quick), then the fast stop, and the final WAL position; the candidate
   * takes the key at once when we release it (its race sees the request name it).
   */
  CompletableFuture<Void> demoteGraceful(String candidate) {
    loop.local(loop.local().toBuilder().pg(PgRunState.STOPPING).build());
    long lsnBeforeStop = loop.local().lsn();
    CompletableFuture<Void> demote = Async.ignoreFailure(pg.checkpoint())
        .thenCompose(v -> {
          loop.update(b -> b.pgStatus(null));
          loop.publishStatus();
          boolean signalled = pg.postmasterAlive();
          return loop.stopPostgres(Action.StopMode.FAST, 0).thenRun(() -> loop.callbacks.stopped(signalled));
        })
        .thenCompose(v -> pg.inspectDataDir())
        .thenCompose(info -> {
          long finalLsn = Switchover.finalLsn(info.latestCheckpointLsn(), lsnBeforeStop);
          long deadlineMs = clock.monotonicMs() + Switchover.CATCH_UP_MS;
          return awaitPeerReceived(candidate, finalLsn, deadlineMs).thenCompose(received -> {
            Decision after = Switchover.afterStop(candidate, finalLsn, received, loop.dynamic().pause());
            return loop.executor.execute(after);
          });
        });
    return loop.runTask(Task.DEMOTE, demote);
  }

  /**
   * A planned switchover loses nothing: the key goes only to a member that has received our shutdown checkpoint,
   * i.e. every transaction we acknowledged. (Right after a promotion, say, a candidate may not stream yet.)
   */
  private CompletableFuture<Boolean> awaitPeerReceived(String candidate, long finalLsn, long deadlineMs) {
    Map<String, CompletableFuture<Long>> positions = new TreeMap<>();
    for (String peer : Switchover.peersToAsk(loop.view(), loop.me(), candidate)) {
      HostPort address = loop.memberAddress(peer);
      if (address == null) continue;
      positions.put(peer, Async.of(pg.receivedLsn(address)).exceptionally(e -> 0L));
    }
    return Async.join(new ArrayList<>(positions.values())).handle((x, e) -> null).thenCompose(ignored -> {
      Map<String, Long> received = new TreeMap<>();
      positions.forEach((peer, f) -> received.put(peer, f.isCompletedExceptionally() ? null : f.join()));
      if (Switchover.caughtUp(received, finalLsn)) return CompletableFuture.completedFuture(true);
      if (clock.monotonicMs() > deadlineMs) return CompletableFuture.completedFuture(false);
      CompletableFuture<Boolean> later = new CompletableFuture<>();
      clock.after(SWITCHOVER_POLL_MS, () -> awaitPeerReceived(candidate, finalLsn, deadlineMs)
          .whenComplete((r, err) -> {
            if (err != null) later.completeExceptionally(err);
            else later.complete(r);
          }));
      return later;
    });
  }

  /** The final WAL position into {@code status}, the key released; in pause, start again as the candidate's replica. */
  CompletableFuture<Void> handOver(Action.HandOver h) {
    String candidate = h.candidate();
    CompletableFuture<Void> released = Async.ignoreFailure(loop.dcs.writeStatus(h.finalLsn()))
        .thenCompose(v -> loop.executor.releaseLeaderKey())
        .thenRun(() -> {
          loop.local(loop.local().toBuilder().pg(PgRunState.STOPPED).inRecovery(null).build());
          LOG.info("switchover: released the leader key{} at WAL position {}",
              candidate == null ? "" : " for " + candidate, h.finalLsn());
        });
    return h.rejoinAsReplica() ? released.thenCompose(x -> rejoinAfterPausedHandOver(candidate)) : released;
  }

  /**
   * In pause nothing starts postgres automatically, so the demoted primary of a switchover done in pause starts
   * again as a replica of the candidate itself, as Patroni's graceful demotion does.
   */
  private CompletableFuture<Void> rejoinAfterPausedHandOver(String candidate) {
    LOG.info("ha.decision cycle={} action=StartReplica reason=SWITCHOVER_DEMOTE msg=\"paused: starting again as a"
        + " replica of {}\"", loop.cycle(), candidate);
    return Async.of(loop.startPostgres(loop.recoveryFor(candidate))).thenAccept(ready ->
        loop.local(loop.local().toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING).upstream(candidate)
            .inRecovery(true).dataDir(DataDirState.REPLICA).build()));
  }

  /** The candidate did not catch up: keep the key, start again as primary, and give the request up. */
  CompletableFuture<Void> stayLeader(Action.StayLeader s) {
    String candidate = s.candidate();
    LOG.warn("ha.decision cycle={} action=StartPrimary reason=SWITCHOVER_CANDIDATE_BEHIND msg=\"switchover: {} did"
        + " not receive WAL position {} within {} ms: staying the leader\"", loop.cycle(),
        candidate == null ? "no member" : candidate, s.finalLsn(), Switchover.CATCH_UP_MS);
    loop.callbacks.starting(Callbacks.PRIMARY);
    return Async.of(loop.startPostgres(null))
        .thenAccept(ready -> loop.local(loop.local().toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING)
            .build()))
        .thenCompose(v -> loop.dcs.clearFailover());
  }
}
