package io.pgha.ha.port;

import java.util.concurrent.CompletionStage;

/** Patroni's callbacks ({@code postgresql.callbacks}): on_start, on_stop, on_role_change, ... */
public interface Hooks {
  /** Runs the callback of {@code action} with {@code role}, in the background; nothing waits for it. */
  void fire(String action, String role);

  /**
   * Runs {@code postgresql.pre_promote} and waits for it, at most {@code limitMs}, off the loop's thread: true when
   * none is configured or it exited 0; false (no promotion) on a non-zero exit, a time out or a failure to start.
   */
  CompletionStage<Boolean> prePromote(long limitMs);

  /**
   * Runs {@code postgresql.before_stop} and waits for it, at most {@code limitMs}, off the loop's thread; completes
   * normally whatever its outcome (a failure is only logged: the stop goes on).
   */
  CompletionStage<Void> beforeStop(long limitMs);

  /** Agent shutdown: completes once the last callback has started (at most ~2 s); it may outlive the agent. */
  CompletionStage<Void> close();
}
