package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.decision.LeaderHeartbeat;
import io.pgha.ha.port.Clock;

/** The leader key's heartbeat: while we hold the key, prove it to ourselves often (the guard's deadline runs from the last proof). */
final class HeartbeatTimer {

  private final HaLoop loop;
  private int awaiting;

  HeartbeatTimer(HaLoop loop) {
    this.loop = loop;
  }

  /** While we hold the key, prove it to ourselves often: the fence deadline is measured from the last proof. */
  void ensure() {
    boolean confirming = loop.state().heartbeatTimer() != null;
    boolean wanted = LeaderHeartbeat.shouldConfirm(loop.view() != null && loop.view().leaderIsMe(), loop.local().shuttingDown(),
        loop.dynamic().pause(), loop.pg.postmasterAlive(), loop.local().isRunningPrimary(), confirming);
    if (wanted && !confirming) {
      armHeartbeat(LeaderHeartbeat.periodMs(loop.dynamic().ttlSeconds()));
    } else if (!wanted && confirming) {
      loop.state().heartbeatTimer().cancel();
      // without a key to confirm, the session state alone says whether ZooKeeper answers
      loop.update(b -> b.heartbeatTimer(null).heartbeatFailing(false));
    }
  }

  private void armHeartbeat(long periodMs) {
    Clock.Timer timer = loop.clock.after(periodMs, () -> {
      if (loop.state().heartbeatTimer() == null) return;
      armHeartbeat(periodMs); // a fixed period, as a periodic timer: the next beat does not wait for this answer
      beat();
    });
    loop.update(b -> b.heartbeatTimer(timer));
  }

  void cancel() {
    if (loop.state().heartbeatTimer() != null) loop.state().heartbeatTimer().cancel();
    loop.update(b -> b.heartbeatTimer(null));
  }

  private void beat() {
    // the previous confirmation is still unanswered: failsafe mode asks the members now (no-op otherwise)
    if (awaiting > 0) loop.failsafe.keyUnanswered();
    awaiting++;
    loop.dcs.confirmLeader().whenComplete((held, e) -> {
      awaiting--;
      // an answer that arrives after the heartbeat stopped must not set heartbeatFailing: nothing would clear it, and
      // the member would decide "zookeeper not accessible" for ever while its session is fine (simulation, seed 5)
      if (loop.state().heartbeatTimer() == null) return;
      boolean failing = e != null;
      if (failing != loop.state().heartbeatFailing()) {
        if (failing) LOG.warn("cannot confirm the leader key: {}", Async.message(e));
        else LOG.warn("leader key confirmed again");
      }
      loop.update(b -> b.heartbeatFailing(failing));
      if (!failing && held) loop.updateGuard("leader key confirmed");
      if (failing || !held) loop.runCycle("leader key not confirmed");
    });
  }

}
