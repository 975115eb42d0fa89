package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.HostPort;
import io.pgha.config.PghaConfig;
import io.pgha.decision.Action;
import io.pgha.decision.DataDirState;
import io.pgha.decision.HaCore;
import io.pgha.decision.OperationVerdict;
import io.pgha.decision.Operations;
import io.pgha.decision.ScheduledRestart;
import io.pgha.decision.PgRunState;
import io.pgha.decision.ReinitRequest;
import io.pgha.decision.RestartRequest;
import io.pgha.decision.Task;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.OperationReply;
import io.pgha.postgres.PgStatus;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/** The operations the REST API asks the loop for (§5.9, §5.10): restart (now or scheduled), reinitialize, reload. */
final class LoopOperations {
  private static final ObjectMapper JSON = new ObjectMapper();
  private final HaLoop loop;

  LoopOperations(HaLoop loop) {
    this.loop = loop;
  }

  private static CompletableFuture<OperationReply> reply(int status, String message) {
    return CompletableFuture.completedFuture(new OperationReply(status, message));
  }

  // ---- restart ----

  private static CompletableFuture<OperationReply> reply(OperationVerdict verdict) {
    return reply(verdict.httpStatus(), verdict.message());
  }

  CompletableFuture<OperationReply> restart(RestartRequest req) {
    if (req.cancel()) {
      OperationVerdict verdict = Operations.cancelScheduled(loop.state().scheduledRestart() != null);
      if (verdict.accepted()) cancelScheduledRestart();
      return reply(verdict);
    }
    if (req.schedule() != null) return scheduleRestart(req);
    CompletableFuture<OperationReply> answer = new CompletableFuture<>();
    restartNow(req, verdict -> answer.complete(new OperationReply(verdict.httpStatus(), verdict.message())));
    return answer;
  }

  /** §3.18: kept in memory and in the member key; carried out when due, with the request's conditions. */
  private CompletableFuture<OperationReply> scheduleRestart(RestartRequest req) {
    OperationVerdict verdict = Operations.schedule(req, loop.state().scheduledRestart() != null);
    if (!verdict.accepted()) return reply(verdict);
    PgStatus status = loop.state().pgStatus();
    ScheduledRestart scheduled = Operations.scheduled(req, status == null ? null : status.postmasterStartTime());
    loop.update(b -> b.scheduledRestart(scheduled));
    checkScheduledRestartIn(scheduled.atEpochMs() - loop.clock.wallMs());
    LOG.info("restart scheduled at {}", req.schedule());
    loop.publishMember();
    loop.publishStatus(); // /patroni shows it too
    return reply(verdict);
  }

  private void checkScheduledRestartIn(long delayMs) {
    Clock.Timer timer = loop.clock.after(Math.max(1, delayMs), () -> {
      loop.update(b -> b.scheduledRestartTimer(null));
      scheduledRestartDue();
    });
    loop.update(b -> b.scheduledRestartTimer(timer));
  }

  /** §3.18: never in pause, not while another operation runs, dropped when stale or when postgres restarted. */
  private void scheduledRestartDue() {
    ScheduledRestart r = loop.state().scheduledRestart();
    if (r == null) return;
    long nowMs = loop.clock.wallMs();
    PgStatus status = loop.state().pgStatus();
    ScheduledRestart.Due due = r.check(nowMs, loop.dynamic().loopWaitSeconds() * 1000L, loop.dynamic().pause(),
        loop.local().task() != null, status == null ? null : status.postmasterStartTime());
    switch (due) {
      case WAIT, PAUSED -> checkScheduledRestartIn(r.recheckInMs(nowMs));
      case RUN -> {
        cancelScheduledRestart();
        LOG.info("Manual scheduled restart at {}", r.schedule());
        restartNow(r.conditions(), verdict -> LOG.info("scheduled restart: {}", verdict.message()));
      }
      case STALE -> {
        cancelScheduledRestart();
        LOG.warn("Found a stale restart value, cleaning up: {}", r.schedule());
      }
      case ALREADY_RESTARTED -> {
        cancelScheduledRestart();
        LOG.info("Cancelling scheduled restart: postgres restart has already happened at {}",
            status == null ? "?" : status.postmasterStartTime());
      }
    }
  }

  private void cancelScheduledRestart() {
    if (loop.state().scheduledRestartTimer() != null) loop.state().scheduledRestartTimer().cancel();
    loop.update(b -> b.scheduledRestartTimer(null).scheduledRestart(null));
    loop.publishMember();
    loop.publishStatus();
  }

  private void restartNow(RestartRequest req, Consumer<OperationVerdict> reply) {
    var local = loop.local();
    boolean leaderIsMe = loop.view() != null && loop.view().leaderIsMe();
    PgStatus status = loop.state().pgStatus();
    OperationVerdict verdict = Operations.restart(req, local, leaderIsMe, status == null ? null : status.serverVersion(),
        loop.state().pendingRestartReason() != null);
    if (!verdict.accepted()) {
      reply.accept(verdict);
      return;
    }
    boolean asPrimary = Operations.restartAsPrimary(local, leaderIsMe);
    String upstream = local.upstream();
    LOG.info("ha.decision cycle={} action=Restart reason=REQUESTED msg=\"restarting postgres on request\"",
        loop.cycle());
    loop.local(local.toBuilder().pg(PgRunState.STOPPING).build());
    loop.callbacks.restarting();
    CompletableFuture<Void> work = loop.synchronous.leaveSynchronousSet()
        .thenCompose(v -> loop.stopPostgres(Action.StopMode.FAST, 0))
        .thenCompose(v -> loop.startPostgres(asPrimary ? null : loop.recoveryFor(upstream)))
        .thenAccept(ready -> {
          loop.local(loop.local().toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING).crashed(false)
              .build());
          loop.pendingRestart.restarted();
        })
        .whenComplete((v, e) -> {
          if (loop.state().leavingSync()) {
            loop.update(b -> b.leavingSync(false));
            loop.publishMember();
          }
        });
    loop.runTask(Task.RESTART, work);
    work.whenComplete((v, e) -> reply.accept(Operations.restartOutcome(e == null ? null : Async.message(e))));
  }

  // ---- reinitialize ----

  CompletableFuture<OperationReply> reinitialize(ReinitRequest req) {
    OperationVerdict verdict = Operations.reinitialize(req, loop.view(), loop.local());
    if (!verdict.accepted()) return reply(verdict);
    LOG.info("ha.decision cycle={} action=Reinitialize reason=REQUESTED msg=\"reinitializing on request\"",
        loop.cycle());
    boolean signalled = loop.pg.postmasterAlive();
    boolean fromLeader = req.fromLeader();
    CompletableFuture<Void> wiped = loop.stopPostgres(Action.StopMode.IMMEDIATE, 0)
        .thenRun(() -> loop.callbacks.stopped(signalled))
        .thenCompose(v -> loop.pg.wipeDataDir())
        .thenRun(() -> loop.local(loop.local().toBuilder().pg(PgRunState.STOPPED).dataDir(DataDirState.EMPTY)
            .inRecovery(null).cloneFromLeader(fromLeader).diverged(false).rewindFailed(false).build()));
    // in pause the HA loop starts nothing, so the request itself clones and starts, as Patroni's does
    loop.runTask(Task.CLONE, loop.dynamic().pause() ? wiped.thenCompose(v -> cloneAndStartInPause(fromLeader))
        : wiped);
    return reply(verdict);
  }

  private CompletableFuture<Void> cloneAndStartInPause(boolean fromLeader) {
    String source = HaCore.cloneSource(loop.view(), loop.settings(), fromLeader);
    HostPort address = source == null ? null : loop.memberAddress(source);
    if (address == null) return Async.failed("member " + source + " has no conn_url");
    LOG.info("ha.decision cycle={} action=Clone reason=REINITIALIZE_PAUSED msg=\"cloning from {} and starting"
        + " postgres: reinitialize requested in pause\"", loop.cycle(), source);
    return Async.of(loop.pg.basebackup(address)).thenCompose(v -> {
      loop.local(loop.local().toBuilder().dataDir(DataDirState.REPLICA).cloneFromLeader(false).build());
      return loop.executor.startWork(HaCore.followTarget(loop.view(), loop.settings()), true);
    });
  }

  // ---- reload ----

  /** Answers at once; the file is read, then postgres reloaded with what changed. */
  CompletableFuture<OperationReply> reload() {
    CompletableFuture<OperationReply> answer = reply(202, "reload scheduled");
    reloadConfigFile().exceptionally(e -> {
      LOG.error("configuration file not reloaded, nothing changed: {}", Async.message(e));
      return null;
    }).whenComplete((v, e) -> {
      loop.publishMember();
      loop.publishStatus();
      reloadPostgres();
    });
    return answer;
  }

  /**
   * {@code POST /reload} and SIGHUP, as in Patroni: the configuration file is read again. {@code postgresql.parameters}
   * and {@code tags} take effect at once (a reload of postgres, a new member key); any other changed section is
   * named in the log, to take effect at the agent's next start. A file that no longer parses changes nothing.
   */
  private CompletableFuture<Void> reloadConfigFile() {
    return Async.of(loop.configFile.read()).thenAccept(fresh -> {
      PghaConfig old = loop.config();
      Set<String> later = new TreeSet<>();
      fresh.raw().fieldNames().forEachRemaining(later::add);
      old.raw().fieldNames().forEachRemaining(later::add);
      later.removeIf(k -> Objects.equals(fresh.raw().get(k), old.raw().get(k)) || k.equals("tags"));
      if (later.remove("postgresql")) {
        ObjectNode a = ((ObjectNode) old.raw().path("postgresql")).deepCopy();
        ObjectNode b = fresh.raw().path("postgresql").isObject()
            ? ((ObjectNode) fresh.raw().get("postgresql")).deepCopy() : JSON.createObjectNode();
        a.remove("parameters");
        b.remove("parameters");
        if (!a.equals(b)) later.add("postgresql (other than parameters)");
      }
      PghaConfig next = new PghaConfig(old.scope(), old.namespace(), old.name(), old.restapi(), old.zookeeper(),
          old.bootstrap(), old.postgresql().withParameters(fresh.postgresql().parameters()), fresh.tags(), old.raw());
      loop.update(s -> s.config(next).settings(loop.settingsOf(next)));
      LOG.info("configuration file reloaded: parameters and tags applied{}",
          later.isEmpty() ? "" : "; changed " + later + ": they take effect when the agent restarts");
    });
  }

  private void reloadPostgres() {
    var local = loop.local();
    if (!io.pgha.decision.Operations.reloadPostgres(local)) return;
    loop.executor.rewriteAndReload(loop.parameters(), local.isRunningPrimary() ? null
            : loop.recoveryFor(local.upstream()))
        .whenComplete((v, e) -> LOG.info("reload {}", e == null ? "done" : "failed: " + Async.message(e)));
  }
}
