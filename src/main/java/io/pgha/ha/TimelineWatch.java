package io.pgha.ha;

import static io.pgha.ha.HaLoop.LOG;

import io.pgha.config.HostPort;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.TimelineCheck;
import io.pgha.decision.TimelineHistory;
import io.pgha.ha.port.Postgres;
import io.pgha.postgres.Lsn;
import io.pgha.postgres.PgStatus;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * §3.13 for a running replica (issue 9): postgres rejects a leader whose timeline forked off ours before our WAL
 * position, over and over, while everything else looks fine. Checked when the leader changes, when the leader's
 * member key shows a newer timeline than ours, and when our walreceiver has not streamed for a couple of seconds;
 * the verdict (LocalState.diverged) is the decision core's to act on. The leader's history comes from the leader
 * itself over a replication connection.
 */
final class TimelineWatch {
  private final HaLoop loop;

  TimelineWatch(HaLoop loop) {
    this.loop = loop;
  }

  /**
   * A replica not streaming for a moment may have diverged: look again in {@link TimelineCheck#NOT_STREAMING_MS},
   * not only at the next loop_wait.
   */
  void trackStreaming(boolean notStreaming) {
    if (!notStreaming) {
      loop.update(b -> b.notStreamingSinceMs(0));
      return;
    }
    if (loop.state().notStreamingSinceMs() == 0) {
      long now = loop.clock.monotonicMs();
      loop.update(b -> b.notStreamingSinceMs(now));
      loop.clock.after(TimelineCheck.NOT_STREAMING_MS + 50, () -> loop.runCycle("not streaming"));
    }
  }

  void check(String trigger) {
    LoopState s = loop.state();
    var view = loop.view();
    var local = loop.local();
    if (s.timelineCheckRunning()
        || !TimelineCheck.applies(view, local, loop.dynamic().pause(), loop.settings().nostream())) {
      return;
    }
    String leader = view.leader();
    MemberRecord leaderMember = view.leaderMember();
    HostPort address = loop.memberAddress(leader);
    if (leaderMember == null || address == null) return;
    int leaderKeyTimeline = leaderMember.timeline() == null ? 0 : leaderMember.timeline();
    long now = loop.clock.monotonicMs();
    PgStatus pgStatus = s.pgStatus();
    boolean streamingFromLeader = pgStatus != null && "streaming".equals(pgStatus.walReceiverStatus())
        && leader.equals(local.upstream());
    TimelineCheck.Situation situation = new TimelineCheck.Situation(leader, leaderKeyTimeline, local.timeline(),
        local.lsn(), s.notStreamingSinceMs() > 0 ? now - s.notStreamingSinceMs() : -1, streamingFromLeader,
        local.diverged());
    if (!TimelineCheck.due(situation, s.lastTimelineCheckLeader(), s.lastTimelineCheckKey(),
        now - s.lastTimelineCheckAtMs())) {
      return;
    }
    HostPort self = loop.memberAddress(loop.me());
    loop.update(b -> b.lastTimelineCheckKey(situation.key()).lastTimelineCheckAtMs(now)
        .lastTimelineCheckLeader(leader).timelineCheckRunning(true));
    Postgres.WalPosition fromStatus = new Postgres.WalPosition(local.timeline(), local.lsn());
    // our own position as IDENTIFY_SYSTEM gives it (timeline and LSN read together), else the status query's
    CompletableFuture<Postgres.WalPosition> mine = self == null ? CompletableFuture.completedFuture(fromStatus)
        : Async.of(loop.pg.identifySystem(self)).exceptionally(e -> fromStatus);
    mine.thenAccept(position -> loop.pg.leaderTimeline(address)
        .whenComplete((answer, e) -> checked(leader, trigger, position, answer, e)));
  }

  private void checked(String leader, String trigger, Postgres.WalPosition mine, Postgres.LeaderTimeline answer,
      Throwable failure) {
    loop.update(b -> b.timelineCheckRunning(false));
    if (failure != null) {
      String error = Async.message(failure);
      // usual while a new leader starts or an old one goes: the next trigger tries again
      if (!error.equals(loop.state().lastTimelineCheckError())) {
        LOG.info("timeline check against {} ({}) failed: {}", leader, trigger, error);
      }
      long again = TimelineCheck.startedAtAfterFailure(loop.clock.monotonicMs()); // the same situation: soon
      loop.update(b -> b.lastTimelineCheckError(error).lastTimelineCheckAtMs(again));
      return;
    }
    loop.update(b -> b.lastTimelineCheckError(null));
    var view = loop.view();
    if (view == null || !leader.equals(view.leader()) || !loop.local().isRunningReplica()
        || loop.local().task() != null) {
      return;
    }
    List<TimelineHistory.Entry> history;
    try {
      history = TimelineHistory.parse(answer.history());
    } catch (IllegalArgumentException e) {
      LOG.warn("timeline check against {}: cannot read its history: {}", leader, e.getMessage());
      return;
    }
    int leaderTimeline = answer.timeline();
    boolean diverged = TimelineHistory.replicaMustRewind(mine.timeline(), mine.lsn(), leaderTimeline, history);
    if (diverged == loop.local().diverged()) return;
    long fork = TimelineHistory.switchPoint(mine.timeline(), history);
    if (diverged) {
      LOG.warn("ha.timeline my timeline {} at {} goes past where timeline {} of leader {} forked off it ({}): this"
          + " replica cannot follow it", mine.timeline(), Lsn.format(mine.lsn()), leaderTimeline, leader,
          fork < 0 ? "not in its history" : Lsn.format(fork));
    } else {
      LOG.info("ha.timeline my timeline {} at {} can follow timeline {} of leader {}", mine.timeline(),
          Lsn.format(mine.lsn()), leaderTimeline, leader);
    }
    loop.local(loop.local().toBuilder().diverged(diverged).build());
    loop.publishStatus();
    loop.runCycle("timeline check");
  }
}
