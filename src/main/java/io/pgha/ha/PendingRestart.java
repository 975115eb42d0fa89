package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.decision.PgRunState;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.Postgres;
import java.util.Map;
import java.util.Objects;

/**
 * §8.7: which GUCs wait for a restart of postgres, as published in {@code pending_restart_reason}. PostgreSQL
 * itself knows after a reload ({@code pg_settings.pending_restart}); this asks it a moment after each reload and
 * forgets the list when postgres (re)starts. The list lives in {@link LoopState#pendingRestartReason()}.
 */
final class PendingRestart {
  private static final ObjectMapper JSON = new ObjectMapper();
  /** The reload reaches our idle pool connection when it runs its next query; give the postmaster a moment first. */
  private static final long CHECK_DELAY_MS = 300;

  private final HaLoop loop;

  PendingRestart(HaLoop loop) {
    this.loop = loop;
  }

  void checkAfterReload() {
    if (loop.state().pendingRestartTimer() != null) loop.state().pendingRestartTimer().cancel();
    Clock.Timer timer = loop.clock.after(CHECK_DELAY_MS, () -> {
      loop.update(b -> b.pendingRestartTimer(null));
      check();
    });
    loop.update(b -> b.pendingRestartTimer(timer));
  }

  /** A (re)start of postgres applies every parameter. */
  void restarted() {
    set(null);
  }

  private void check() {
    // postgres runs and no operation is in flight (else the check is skipped)
    if (!(loop.local().pg() == PgRunState.RUNNING && loop.local().task() == null)) return;
    loop.pg.pendingRestart().whenComplete((pending, e) -> {
      if (e != null) {
        LOG.warn("cannot read pending_restart from pg_settings: {}", Async.message(e));
        return;
      }
      set(toJson(pending));
    });
  }

  static ObjectNode toJson(Map<String, Postgres.PendingSetting> pending) {
    if (pending.isEmpty()) return null;
    ObjectNode json = JSON.createObjectNode();
    pending.forEach((name, p) -> json.putObject(name).put("old_value", p.oldValue()).put("new_value", p.newValue()));
    return json;
  }

  private void set(ObjectNode newReason) {
    ObjectNode reason = loop.state().pendingRestartReason();
    if (Objects.equals(newReason, reason)) return;
    boolean wasPending = reason != null;
    loop.update(b -> b.pendingRestartReason(newReason));
    if (newReason != null) LOG.info("pending restart: {}", newReason);
    else if (wasPending) LOG.info("no restart pending any more");
    loop.publishMember();
    loop.publishStatus();
  }
}
