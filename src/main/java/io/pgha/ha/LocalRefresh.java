package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.dcs.DcsHealth;
import io.pgha.decision.DataDirState;
import io.pgha.decision.LocalState;
import io.pgha.decision.PgRunState;
import java.util.concurrent.CompletableFuture;

/** Brings the loop's inputs up to date before a decision: ZooKeeper health, the postgres status query, the data directory. */
final class LocalRefresh {
  private static final long STATUS_RETRY_MS = 100;

  private final HaLoop loop;

  LocalRefresh(HaLoop loop) {
    this.loop = loop;
  }

  /** Brings the inputs up to date: ZooKeeper health, the postgres status query, the data directory. */
  CompletableFuture<Void> refresh() {
    DcsHealth h = loop.dcs.health();
    long sessionMs = h.negotiatedTimeoutMs() > 0 ? h.negotiatedTimeoutMs() : loop.dynamic().ttlSeconds() * 1000L;
    LocalState refreshed = loop.local().toBuilder().dcsConnected(h.connected() && !loop.state().heartbeatFailing())
        .wallClockMs(loop.clock.wallMs()).lockConfirmedAtMs(h.lockConfirmedAtMs()).sessionTtlMs(sessionMs).build();
    loop.update(b -> b.health(h).local(refreshed));
    if (loop.local().task() != null) return Async.done();
    if (loop.pg.postmasterAlive() && (loop.local().pg() == PgRunState.RUNNING || loop.local().pg() == PgRunState.STARTING)) {
      CompletableFuture<Void> ready = loop.local().pg() != PgRunState.STARTING ? Async.done()
          : Async.of(loop.pg.readiness()).handle((status, e) -> {
            if (("ready".equals(status) || "standby".equals(status)) && loop.local().pg() == PgRunState.STARTING) {
              loop.local(loop.local().toBuilder().pg(PgRunState.RUNNING).build());
            }
            return null;
          });
      return ready.thenCompose(x -> loop.pg.status()).handle((status, e) -> {
        if (e == null) {
          // without a walreceiver a standby only knows its last restartpoint's timeline, which lags behind what
          // it already replays (right when its leader stops, for one): keep the last timeline seen, as Patroni does
          int timeline = status.inRecovery() && status.walReceiverStatus() == null
              ? Math.max(status.timeline(), loop.local().timeline()) : status.timeline();
          LocalState now = loop.local().toBuilder().pg(PgRunState.RUNNING).inRecovery(status.inRecovery())
              .lsn(status.xlogLocation()).timeline(timeline).sysid(status.systemIdentifier())
              .dataDir(status.inRecovery() ? DataDirState.REPLICA : DataDirState.PRIMARY).build();
          loop.update(b -> b.pgStatus(status).local(now));
          loop.callbacks.running(status.inRecovery() ? Callbacks.REPLICA : Callbacks.PRIMARY);
          loop.timelineWatch.trackStreaming(status.inRecovery() && !"streaming".equals(status.walReceiverStatus()));
        } else {
          loop.update(b -> b.pgStatus(null));
          // postgres is up but not answering yet (crash recovery, start-up): look again soon, not in loop_wait
          loop.clock.after(STATUS_RETRY_MS, () -> loop.runCycle("status retry"));
        }
        return null;
      });
    }
    if (loop.local().pg() != PgRunState.STOPPED) loop.local(loop.local().toBuilder().pg(PgRunState.STOPPED).build());
    loop.update(b -> b.notStreamingSinceMs(0));
    return Async.of(loop.pg.inspectDataDir()).handle((info, e) -> {
      if (e == null) {
        loop.local(loop.local().toBuilder().dataDir(info.state()).sysid(info.sysid()).cleanShutdown(info.cleanShutdown())
            .inRecovery(null).build());
      } else {
        loop.local(loop.local().toBuilder().dataDir(DataDirState.UNREADABLE).build());
        LOG.warn("cannot inspect {}: {}", loop.config().postgresql().dataDir(), Async.message(e));
      }
      return null;
    });
  }

}
