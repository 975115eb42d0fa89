package io.pgha.ha.port;

import java.util.concurrent.CompletionStage;

/** Patroni's callbacks ({@code postgresql.callbacks}): on_start, on_stop, on_role_change, ... */
public interface Hooks {
  /** Runs the callback of {@code action} with {@code role}, in the background; nothing waits for it. */
  void fire(String action, String role);

  /** Agent shutdown: completes once the last callback has started (at most ~2 s); it may outlive the agent. */
  CompletionStage<Void> close();
}
