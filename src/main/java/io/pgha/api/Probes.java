package io.pgha.api;

import io.pgha.model.NodeStatus;

/** The status-line-only probes of §5.5, as pure functions. */
public final class Probes {
  private Probes() {}

  /**
   * {@code GET /liveness}: 200 while paused, or while the HA loop's next scheduled run plus {@code ttl} (a running
   * primary) or {@code 2*ttl} (anything else) is still in the future; else 503.
   */
  public static int liveness(NodeStatus s, long nowEpochMs) {
    boolean runningPrimary = NodeFacts.isPrimaryRole(s.role()) && NodeFacts.RUNNING.equals(s.state());
    long thresholdMs = (runningPrimary ? 1L : 2L) * s.ttlSeconds() * 1000L;
    return s.paused() || nowEpochMs < s.nextLoopDueEpochMs() + thresholdMs
        ? HealthCheck.OK
        : HealthCheck.UNAVAILABLE;
  }

  /**
   * {@code GET /readiness}, as Patroni before 4.1 (incl. 3.0.2): 200 if this member holds the leader lock, or
   * postgres is running and a view of the cluster was loaded; else 503. The 4.1 rework ({@code ?lag}, {@code mode},
   * streaming) is not implemented yet.
   */
  public static int readiness(NodeStatus s) {
    return s.leaderLockHeld() || NodeFacts.RUNNING.equals(s.state()) && s.dcsViewPresent()
        ? HealthCheck.OK
        : HealthCheck.UNAVAILABLE;
  }
}
