package io.pgha.ha.vertx;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.concurrent.CompletableFuture;

/**
 * The adapters' one rule: a port's stage completes on the HA loop's context, whatever thread the Vert.x future (or
 * Curator callback, or worker) completed on, so the driver stays single-threaded.
 */
final class OnContext {
  private OnContext() {}

  static <T> CompletableFuture<T> of(Context ctx, Future<T> future) {
    CompletableFuture<T> stage = new CompletableFuture<>();
    future.onComplete(ar -> {
      if (Vertx.currentContext() == ctx) {
        complete(stage, ar.succeeded(), ar.result(), ar.cause());
      } else {
        ctx.runOnContext(v -> complete(stage, ar.succeeded(), ar.result(), ar.cause()));
      }
    });
    return stage;
  }

  /** Runs blocking work (a file read, a fork) on a worker; the answer comes back on the loop's context. */
  static <T> CompletableFuture<T> blocking(Context ctx, java.util.concurrent.Callable<T> work) {
    return of(ctx, ctx.owner().executeBlocking(work, false));
  }

  private static <T> void complete(CompletableFuture<T> stage, boolean ok, T result, Throwable cause) {
    if (ok) stage.complete(result);
    else stage.completeExceptionally(cause);
  }
}
