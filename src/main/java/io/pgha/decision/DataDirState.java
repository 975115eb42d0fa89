package io.pgha.decision;

/** What is found in {@code data_dir} while postgres is not running. */
public enum DataDirState {
  /** Missing, or only dot-files / lost+found: nothing to start. */
  EMPTY,
  /** Holds a cluster whose last known role was primary (pg_control: in production / shut down). */
  PRIMARY,
  /** Holds a cluster that was a standby (pg_control: in archive recovery / shut down in recovery). */
  REPLICA,
  /** Could not be read. */
  UNREADABLE
}
