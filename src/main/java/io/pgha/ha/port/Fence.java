package io.pgha.ha.port;

import io.pgha.guard.FencingGuard;

/** The fencing guard: a separate process that stops postgres when the agent stops proving it holds the key. */
public interface Fence {
  /** Starts the guard (or says it is off). */
  void start();

  /** Where we stand; the guard arms, pushes its deadline or disarms from it. */
  void update(FencingGuard.Situation situation, String why);

  void disarm(String why);

  /** The guard is on ({@code pgha.fencing_guard}, on by default); without it ttl keeps the higher floor. */
  default boolean guarding() {
    return true;
  }

  /** The watchdog is required but cannot be used: this member must never lead. */
  boolean watchdogFailed();

  /** Counts (and logs) the fires recorded by any guard of this member. */
  void countFires(String when);

  void close();
}
