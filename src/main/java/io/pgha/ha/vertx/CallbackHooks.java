package io.pgha.ha.vertx;

import io.pgha.events.EventBridge;
import io.pgha.events.Events;
import io.pgha.ha.port.Hooks;
import io.pgha.metrics.PghaMetrics;
import io.pgha.config.PostgresqlConfig;
import io.pgha.postgres.CallbackRunner;
import io.pgha.postgres.HookScript;
import io.vertx.core.Context;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * The {@link Hooks} port over {@link CallbackRunner} (each outcome counted and sent to the event stream) and
 * {@link HookScript} ({@code pre_promote}, {@code before_stop}, run on a worker).
 */
final class CallbackHooks implements Hooks {
  private final Context ctx;
  private final CallbackRunner runner;
  private final String prePromote;
  private final String beforeStop;

  CallbackHooks(Context ctx, PostgresqlConfig pg, String scope, PghaMetrics metrics) {
    this(ctx, pg.callbacks(), pg.prePromote(), pg.beforeStop(), scope, metrics);
  }

  CallbackHooks(Context ctx, Map<String, String> commands, String prePromote, String beforeStop, String scope,
      PghaMetrics metrics) {
    this.ctx = ctx;
    this.prePromote = prePromote;
    this.beforeStop = beforeStop;
    this.runner = new CallbackRunner(commands, scope, CallbackRunner.DEFAULT_TIMEOUT, r -> {
      metrics.callback(r.action(), r.outcome().name());
      ctx.owner().eventBus().publish(EventBridge.ADDRESS, Events.callback(r));
    });
  }

  @Override public void fire(String action, String role) { runner.fire(action, role); }

  @Override
  public CompletionStage<Boolean> prePromote(long limitMs) {
    if (prePromote == null) return java.util.concurrent.CompletableFuture.completedFuture(true);
    return OnContext.blocking(ctx, () -> HookScript.run("pre_promote", prePromote, Duration.ofMillis(limitMs))
        .succeeded());
  }

  @Override
  public CompletionStage<Void> beforeStop(long limitMs) {
    if (beforeStop == null) return java.util.concurrent.CompletableFuture.completedFuture(null);
    return OnContext.blocking(ctx, () -> {
      HookScript.run("before_stop", beforeStop, Duration.ofMillis(limitMs));
      return null;
    });
  }

  @Override
  public CompletionStage<Void> close() {
    return OnContext.blocking(ctx, () -> {
      runner.awaitStarted(Duration.ofSeconds(2));
      runner.close();
      return null;
    });
  }
}
