package io.pgha.sim;

/** A broken invariant or a run that went out of its bounds; the runner adds the seed, step and trace. */
public final class SimFailure extends RuntimeException {
  public SimFailure(String message) {
    super(message);
  }
}
