package io.pgha.ha.port;

/** Time as the loop sees it: a monotonic clock for deadlines, the wall clock for what is published, and timers. */
public interface Clock {
  /** Milliseconds on a clock that never jumps (the same clock as {@code DcsHealth.lockConfirmedAtMs}). */
  long monotonicMs();

  /** Milliseconds since the epoch (scheduled switchovers and restarts, published times, metrics). */
  long wallMs();

  /** Runs {@code task} on the loop's thread after {@code delayMs} (at least 1 ms), unless cancelled first. */
  Timer after(long delayMs, Runnable task);

  /** A pending timer. */
  interface Timer {
    /** Cancels the timer; harmless once it has fired or was cancelled. */
    void cancel();
  }
}
