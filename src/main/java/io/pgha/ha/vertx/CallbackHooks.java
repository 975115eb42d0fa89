package io.pgha.ha.vertx;

import io.pgha.events.EventBridge;
import io.pgha.events.Events;
import io.pgha.ha.port.Hooks;
import io.pgha.metrics.PghaMetrics;
import io.pgha.postgres.CallbackRunner;
import io.vertx.core.Context;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;

/** The {@link Hooks} port over {@link CallbackRunner}; each outcome is counted and sent to the event stream. */
final class CallbackHooks implements Hooks {
  private final Context ctx;
  private final CallbackRunner runner;

  CallbackHooks(Context ctx, Map<String, String> commands, String scope, PghaMetrics metrics) {
    this.ctx = ctx;
    this.runner = new CallbackRunner(commands, scope, CallbackRunner.DEFAULT_TIMEOUT, r -> {
      metrics.callback(r.action(), r.outcome().name());
      ctx.owner().eventBus().publish(EventBridge.ADDRESS, Events.callback(r));
    });
  }

  @Override public void fire(String action, String role) { runner.fire(action, role); }

  @Override
  public CompletionStage<Void> close() {
    return OnContext.blocking(ctx, () -> {
      runner.awaitStarted(Duration.ofSeconds(2));
      runner.close();
      return null;
    });
  }
}
