package io.pgha.decision;

/** The postmaster as the supervisor sees it. */
public enum PgRunState {
  /** No postmaster. */
  STOPPED,
  /** Spawned, not yet accepting connections. */
  STARTING,
  /** Accepting connections. */
  RUNNING,
  /** A stop was requested and the postmaster has not exited yet. */
  STOPPING
}
