package io.pgha.ha;

import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;

/** Small helpers for the driver's {@link CompletableFuture} chains (all on the loop's thread). */
final class Async {
  private Async() {}

  static CompletableFuture<Void> done() {
    return CompletableFuture.completedFuture(null);
  }

  static <T> CompletableFuture<T> failed(String why) {
    return CompletableFuture.failedFuture(new IllegalStateException(why));
  }

  static <T> CompletableFuture<T> of(CompletionStage<T> stage) {
    return stage.toCompletableFuture();
  }

  /** Completes when all have, failed if one failed (as Vert.x's {@code Future.join}). */
  static CompletableFuture<Void> join(List<CompletableFuture<?>> work) {
    return CompletableFuture.allOf(work.toArray(CompletableFuture[]::new));
  }

  /** A failure as success with {@code null}, for steps whose failure changes nothing. */
  static <T> CompletableFuture<T> ignoreFailure(CompletionStage<T> stage) {
    return stage.toCompletableFuture().exceptionally(e -> null);
  }

  /** The failure's own message, not the wrapper's ({@link CompletionException}). */
  static String message(Throwable t) {
    Throwable cause = cause(t);
    return cause.getMessage() != null ? cause.getMessage() : cause.toString();
  }

  static Throwable cause(Throwable t) {
    while ((t instanceof CompletionException || t instanceof ExecutionException) && t.getCause() != null) {
      t = t.getCause();
    }
    return t;
  }
}
