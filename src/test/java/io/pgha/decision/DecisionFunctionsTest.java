package io.pgha.decision;

import io.pgha.config.DynamicConfigJson;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfig.SyncMode;
import io.pgha.decision.SyncLeave.Progress;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decision tables of the protocol choices the HA loop used to make itself (issue 10): {@link Switchover},
 * {@link Operations}, {@link SyncLeave}, {@link TaskFailure}, {@link ViewChange}, {@link LeaderHeartbeat},
 * {@link TimelineCheck#applies}, {@link RestartRequest#fromMap}. One row per case, named like a sentence, with the
 * exact outcome (the HTTP statuses and messages are Patroni's: the REST API relays them, and clients match them).
 */
class DecisionFunctionsTest {
  static final String ME = "pg1";
  static final ObjectMapper JSON = new ObjectMapper();

  /** One row: what the function returned, and what it must return. */
  record Row(String name, Supplier<Object> actual, Object expected) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Row row(String name, Supplier<Object> actual, Object expected) {
    return new Row(name, actual, expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void decides(Row row) {
    assertThat(row.actual().get()).isEqualTo(row.expected());
  }

  static Stream<Row> table() {
    return Stream.of(switchover(), operations(), syncLeave(), taskFailure(), viewChange(), heartbeat(),
        timelineCheck(), restartRequest(), loopRules()).flatMap(List::stream);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Switchover (§3.8)
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> switchover() {
    List<Row> rows = new ArrayList<>();
    rows.add(row("switchover: the candidate received the final position: hand over",
        () -> Switchover.afterStop("pg2", 100, true, false),
        new Decision(new Action.HandOver("pg2", 100, false), Reason.SWITCHOVER_HANDED_OVER,
            "switchover: released the leader key for pg2 at WAL position 100", List.of())));
    rows.add(row("switchover without a candidate, a member received the final position: hand over to the race",
        () -> Switchover.afterStop(null, 100, true, false),
        new Decision(new Action.HandOver(null, 100, false), Reason.SWITCHOVER_HANDED_OVER,
            "switchover: released the leader key at WAL position 100", List.of())));
    rows.add(row("switchover in pause: hand over and start again as a replica of the candidate",
        () -> Switchover.afterStop("pg2", 100, true, true),
        new Decision(new Action.HandOver("pg2", 100, true), Reason.SWITCHOVER_REJOIN_PAUSED,
            "switchover: released the leader key for pg2 at WAL position 100; paused: starting again as a replica"
                + " of pg2", List.of())));
    rows.add(row("switchover in pause without a candidate: hand over, nobody to rejoin",
        () -> Switchover.afterStop(null, 100, true, true),
        new Decision(new Action.HandOver(null, 100, false), Reason.SWITCHOVER_HANDED_OVER,
            "switchover: released the leader key at WAL position 100", List.of())));
    rows.add(row("switchover: the candidate is behind: stay the leader, give the request up",
        () -> Switchover.afterStop("pg2", 100, false, false),
        new Decision(new Action.StayLeader("pg2", 100), Reason.SWITCHOVER_CANDIDATE_BEHIND,
            "switchover: pg2 did not receive WAL position 100 within 5000 ms: staying the leader", List.of())));
    rows.add(row("switchover without a candidate, nobody received: stay the leader",
        () -> Switchover.afterStop(null, 100, false, false),
        new Decision(new Action.StayLeader(null, 100), Reason.SWITCHOVER_CANDIDATE_BEHIND,
            "switchover: no member did not receive WAL position 100 within 5000 ms: staying the leader", List.of())));
    rows.add(row("switchover in pause, the candidate is behind: stay the leader (no rejoin)",
        () -> Switchover.afterStop("pg2", 100, false, true).action(), new Action.StayLeader("pg2", 100)));
    rows.add(row("final position: the shutdown checkpoint when further", () -> Switchover.finalLsn(200, 150), 200L));
    rows.add(row("final position: the last position seen running when further", () -> Switchover.finalLsn(150, 200),
        200L));
    rows.add(row("caught up: a peer received beyond the final position",
        () -> Switchover.caughtUp(Map.of("pg2", 101L), 100), true));
    rows.add(row("caught up: exactly the final position is not enough (the shutdown checkpoint's record follows)",
        () -> Switchover.caughtUp(Map.of("pg2", 100L), 100), false));
    rows.add(row("caught up: one of several peers is enough",
        () -> Switchover.caughtUp(Map.of("pg2", 50L, "pg3", 150L), 100), true));
    rows.add(row("caught up: a position that could not be read counts as nothing",
        () -> Switchover.caughtUp(nullValued("pg2"), 100), false));
    rows.add(row("caught up: nobody to ask", () -> Switchover.caughtUp(Map.of(), 100), false));
    ClusterView three = view(ME, true, member(ME), member("pg2"), member("pg3"), nofailover("pg4"));
    rows.add(row("peers to ask: the candidate only", () -> Switchover.peersToAsk(three, ME, "pg3"), List.of("pg3")));
    rows.add(row("peers to ask without a candidate: every other member that may fail over",
        () -> Switchover.peersToAsk(three, ME, null), List.of("pg2", "pg3")));
    rows.add(row("peers to ask: a nofailover candidate never counts (the leader stays)",
        () -> Switchover.peersToAsk(three, ME, "pg4"), List.of()));
    rows.add(row("peers to ask: a candidate not in the view", () -> Switchover.peersToAsk(three, ME, "pg9"),
        List.of()));
    rows.add(row("peers to ask: no view", () -> Switchover.peersToAsk(null, ME, "pg2"), List.of()));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Operations (§5.9, §5.10, §3.18)
  // ---------------------------------------------------------------------------------------------------------------

  static final LocalState REPLICA = LocalState.builder(ME).pg(PgRunState.RUNNING).inRecovery(true)
      .dataDir(DataDirState.REPLICA).build();
  static final LocalState PRIMARY = LocalState.builder(ME).pg(PgRunState.RUNNING).inRecovery(false)
      .dataDir(DataDirState.PRIMARY).build();
  static final LocalState STOPPED = LocalState.builder(ME).pg(PgRunState.STOPPED).dataDir(DataDirState.REPLICA)
      .build();

  static RestartRequest restartIf(String role, String version, Boolean pending) {
    return new RestartRequest(role, version, pending, null, false);
  }

  static OperationVerdict accepted(int status, String message, Reason reason) {
    return new OperationVerdict(true, status, message, reason);
  }

  static OperationVerdict rejected(int status, String message, Reason reason) {
    return new OperationVerdict(false, status, message, reason);
  }

  static final OperationVerdict RESTARTED = accepted(200, "restarted successfully", Reason.RESTART_ACCEPTED);

  static OperationVerdict unmet(String why) {
    return rejected(503, "restart conditions are not satisfied (" + why + ")", Reason.RESTART_CONDITIONS_UNMET);
  }

  static List<Row> operations() {
    List<Row> rows = new ArrayList<>();
    // POST /restart, now
    rows.add(row("restart: no conditions, idle replica: accepted",
        () -> Operations.restart(RestartRequest.NOW, REPLICA, false, 160002, false), RESTARTED));
    rows.add(row("restart: no conditions, leader: accepted",
        () -> Operations.restart(RestartRequest.NOW, PRIMARY, true, 160002, false), RESTARTED));
    rows.add(row("restart: role replica on a replica",
        () -> Operations.restart(restartIf("replica", null, null), REPLICA, false, 160002, false), RESTARTED));
    rows.add(row("restart: role primary on a replica: unmet",
        () -> Operations.restart(restartIf("primary", null, null), REPLICA, false, 160002, false),
        unmet("role is replica")));
    rows.add(row("restart: role primary on the primary",
        () -> Operations.restart(restartIf("primary", null, null), PRIMARY, true, 160002, false), RESTARTED));
    rows.add(row("restart: role master is primary's old name",
        () -> Operations.restart(restartIf("master", null, null), PRIMARY, true, 160002, false), RESTARTED));
    rows.add(row("restart: role master on a replica: unmet",
        () -> Operations.restart(restartIf("master", null, null), REPLICA, false, 160002, false),
        unmet("role is replica")));
    rows.add(row("restart: role replica on the primary: unmet",
        () -> Operations.restart(restartIf("replica", null, null), PRIMARY, true, 160002, false),
        unmet("role is primary")));
    rows.add(row("restart: role standby_leader is neither (pgha has no standby cluster): unmet",
        () -> Operations.restart(restartIf("standby_leader", null, null), REPLICA, false, 160002, false),
        unmet("role is replica")));
    rows.add(row("restart: a stopped postgres counts as a replica",
        () -> Operations.restart(restartIf("replica", null, null), STOPPED, false, null, false), RESTARTED));
    rows.add(row("restart: a running primary without the key is still a primary by role",
        () -> Operations.restart(restartIf("primary", null, null), PRIMARY, false, 160002, false), RESTARTED));
    rows.add(row("restart: postgres_version newer than the server",
        () -> Operations.restart(restartIf(null, "16.3", null), REPLICA, false, 160002, false), RESTARTED));
    rows.add(row("restart: postgres_version equal to the server: unmet",
        () -> Operations.restart(restartIf(null, "16.2", null), REPLICA, false, 160002, false),
        unmet("postgres_version is not greater than 160002")));
    rows.add(row("restart: postgres_version older (9.6.1) than the server: unmet",
        () -> Operations.restart(restartIf(null, "9.6.1", null), REPLICA, false, 160002, false),
        unmet("postgres_version is not greater than 160002")));
    rows.add(row("restart: postgres_version with the server version unknown: holds",
        () -> Operations.restart(restartIf(null, "9.6.1", null), STOPPED, false, null, false), RESTARTED));
    rows.add(row("restart: restart_pending with a restart pending",
        () -> Operations.restart(restartIf(null, null, true), REPLICA, false, 160002, true), RESTARTED));
    rows.add(row("restart: restart_pending without a restart pending: unmet",
        () -> Operations.restart(restartIf(null, null, true), REPLICA, false, 160002, false),
        unmet("no restart is pending")));
    rows.add(row("restart: restart_pending false asks nothing",
        () -> Operations.restart(restartIf(null, null, false), REPLICA, false, 160002, false), RESTARTED));
    rows.add(row("restart: the role is checked before the version",
        () -> Operations.restart(restartIf("primary", "9.6", null), REPLICA, false, 160002, false),
        unmet("role is replica")));
    rows.add(row("restart: the version is checked before restart_pending",
        () -> Operations.restart(restartIf(null, "9.6", true), REPLICA, false, 160002, false),
        unmet("postgres_version is not greater than 160002")));
    rows.add(row("restart: a task in progress: busy",
        () -> Operations.restart(RestartRequest.NOW, REPLICA.toBuilder().task(Task.START).build(), false, 160002,
            false),
        rejected(503, "start already in progress", Reason.BUSY)));
    rows.add(row("restart: a restart in progress: busy",
        () -> Operations.restart(RestartRequest.NOW, REPLICA.toBuilder().task(Task.RESTART).build(), false, 160002,
            false),
        rejected(503, "restart already in progress", Reason.BUSY)));
    rows.add(row("restart: unmet conditions are reported before busy",
        () -> Operations.restart(restartIf("primary", null, null), REPLICA.toBuilder().task(Task.CLONE).build(),
            false, 160002, false),
        unmet("role is replica")));
    rows.add(row("restart as primary: running primary holding the key",
        () -> Operations.restartAsPrimary(PRIMARY, true), true));
    rows.add(row("restart as primary: a running primary without the key restarts as a replica",
        () -> Operations.restartAsPrimary(PRIMARY, false), false));
    rows.add(row("restart as primary: a replica never", () -> Operations.restartAsPrimary(REPLICA, true), false));
    rows.add(row("restart over: success", () -> Operations.restartOutcome(null),
        accepted(200, "restarted successfully", Reason.RESTART_DONE)));
    rows.add(row("restart over: failure with its error", () -> Operations.restartOutcome("postgres did not start"),
        rejected(503, "restart failed: postgres did not start", Reason.RESTART_FAILED)));
    // DELETE /restart, POST /restart {"schedule"}
    rows.add(row("cancel: nothing scheduled", () -> Operations.cancelScheduled(false),
        rejected(404, "no restarts are scheduled", Reason.NO_RESTART_SCHEDULED)));
    rows.add(row("cancel: the scheduled restart is deleted", () -> Operations.cancelScheduled(true),
        accepted(200, "scheduled restart deleted", Reason.RESTART_SCHEDULE_DELETED)));
    rows.add(row("schedule: accepted",
        () -> Operations.schedule(scheduleAt("2026-11-24T06:00:00+00:00"), false),
        accepted(202, "Restart scheduled", Reason.RESTART_SCHEDULED)));
    rows.add(row("schedule: another restart is scheduled",
        () -> Operations.schedule(scheduleAt("2026-11-24T06:00:00+00:00"), true),
        rejected(409, "Another restart is already scheduled", Reason.RESTART_ALREADY_SCHEDULED)));
    rows.add(row("schedule: a time without offset does not parse",
        () -> Operations.schedule(scheduleAt("2026-11-24T06:00:00"), false),
        rejected(400, "Unable to parse scheduled timestamp: 2026-11-24T06:00:00", Reason.RESTART_SCHEDULE_INVALID)));
    rows.add(row("schedule: already scheduled is reported before a bad time",
        () -> Operations.schedule(scheduleAt("tomorrow"), true),
        rejected(409, "Another restart is already scheduled", Reason.RESTART_ALREADY_SCHEDULED)));
    rows.add(row("schedule: the time in epoch ms",
        () -> Operations.scheduleEpochMs("2026-11-24T07:00:00+01:00"), 1_795_500_000_000L));
    rows.add(row("schedule: the restart kept has the conditions, not the schedule twice",
        () -> Operations.scheduled(new RestartRequest("replica", null, null, "2026-11-24T06:00:00+00:00", false),
            "2026-11-24 05:00:00+00:00"),
        new ScheduledRestart("2026-11-24T06:00:00+00:00", 1_795_500_000_000L, restartIf("replica", null, null),
            "2026-11-24 05:00:00+00:00")));
    // POST /reinitialize
    ClusterView ledByOther = view("pg2", false, member(ME), member("pg2"));
    ClusterView ledByMe = view(ME, true, member(ME), member("pg2"));
    ClusterView leaderless = view(null, false, member(ME), member("pg2"));
    OperationVerdict reinitStarted = accepted(200, "reinitialize started", Reason.REINIT_ACCEPTED);
    OperationVerdict noLeader = rejected(503, "Cluster has no leader, can not reinitialize", Reason.REINIT_NO_LEADER);
    rows.add(row("reinitialize: a replica following a leader",
        () -> Operations.reinitialize(new ReinitRequest(false, false), ledByOther, REPLICA), reinitStarted));
    rows.add(row("reinitialize from the leader: same answer",
        () -> Operations.reinitialize(new ReinitRequest(false, true), ledByOther, STOPPED), reinitStarted));
    rows.add(row("reinitialize: no leader", () -> Operations.reinitialize(new ReinitRequest(false, false),
        leaderless, REPLICA), noLeader));
    rows.add(row("reinitialize: no view yet", () -> Operations.reinitialize(new ReinitRequest(true, false), null,
        REPLICA), noLeader));
    rows.add(row("reinitialize: I am the leader",
        () -> Operations.reinitialize(new ReinitRequest(false, false), ledByMe, PRIMARY),
        rejected(503, "I am the leader, can not reinitialize", Reason.REINIT_I_AM_LEADER)));
    rows.add(row("reinitialize: force does not override being the leader",
        () -> Operations.reinitialize(new ReinitRequest(true, false), ledByMe, PRIMARY).reason(),
        Reason.REINIT_I_AM_LEADER));
    rows.add(row("reinitialize: a task in progress: busy",
        () -> Operations.reinitialize(new ReinitRequest(false, false), ledByOther,
            REPLICA.toBuilder().task(Task.REWIND).build()),
        rejected(503, "rewind already in progress", Reason.BUSY)));
    rows.add(row("reinitialize: force goes ahead while a task is in progress",
        () -> Operations.reinitialize(new ReinitRequest(true, false), ledByOther,
            REPLICA.toBuilder().task(Task.CLONE).build()),
        reinitStarted));
    // server_version_num
    rows.add(row("version 15.4", () -> Operations.versionNumber("15.4"), 150004));
    rows.add(row("version 10.0", () -> Operations.versionNumber("10.0"), 100000));
    rows.add(row("version 16 (major only)", () -> Operations.versionNumber("16"), 160000));
    rows.add(row("version 9.6.1", () -> Operations.versionNumber("9.6.1"), 90601));
    rows.add(row("version 9.6", () -> Operations.versionNumber("9.6"), 90600));
    rows.add(row("version with blanks", () -> Operations.versionNumber(" 13.2 "), 130002));
    rows.add(row("version not a number", () -> Operations.versionNumber("x.y"), 0));
    return rows;
  }

  static RestartRequest scheduleAt(String schedule) {
    return new RestartRequest(null, null, null, schedule, false);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // SyncLeave (§4.6)
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> syncLeave() {
    SyncState listed = new SyncState("pg2", Set.of(ME, "pg3"), 4);
    SyncState dropped = new SyncState("pg2", Set.of("pg3"), 5);
    SyncState mineAsLeader = new SyncState(ME, Set.of("pg2"), 4);
    List<Row> rows = new ArrayList<>();
    rows.add(row("leave sync: mode on, listed: must leave",
        () -> SyncLeave.mustLeave(SyncMode.ON, false, listed, ME), true));
    rows.add(row("leave sync: mode on, not listed", () -> SyncLeave.mustLeave(SyncMode.ON, false, dropped, ME),
        false));
    rows.add(row("leave sync: the sync leader itself is not a standby to drop",
        () -> SyncLeave.mustLeave(SyncMode.ON, false, mineAsLeader, ME), false));
    rows.add(row("leave sync: tagged nosync (never listed for long)",
        () -> SyncLeave.mustLeave(SyncMode.ON, true, listed, ME), false));
    rows.add(row("leave sync: quorum mode does not wait", () -> SyncLeave.mustLeave(SyncMode.QUORUM, false, listed,
        ME), false));
    rows.add(row("leave sync: mode off", () -> SyncLeave.mustLeave(SyncMode.OFF, false, listed, ME), false));
    rows.add(row("leave sync: no view", () -> SyncLeave.mustLeave(SyncMode.ON, false, null, ME), false));
    rows.add(row("leave sync: empty sync key", () -> SyncLeave.mustLeave(SyncMode.ON, false, SyncState.EMPTY, ME),
        false));
    rows.add(row("leaving: dropped from the key", () -> SyncLeave.progress(dropped, ME, 1000, 21_000),
        Progress.LEFT));
    rows.add(row("leaving: still listed, before the deadline", () -> SyncLeave.progress(listed, ME, 1000, 21_000),
        Progress.WAIT));
    rows.add(row("leaving: still listed, at the deadline", () -> SyncLeave.progress(listed, ME, 21_000, 21_000),
        Progress.WAIT));
    rows.add(row("leaving: still listed after the deadline: stop anyway",
        () -> SyncLeave.progress(listed, ME, 21_001, 21_000), Progress.TIMED_OUT));
    rows.add(row("leaving: dropped wins over the deadline", () -> SyncLeave.progress(dropped, ME, 99_000, 21_000),
        Progress.LEFT));
    rows.add(row("leaving: the sync key deleted", () -> SyncLeave.progress(SyncState.EMPTY, ME, 1000, 21_000),
        Progress.LEFT));
    rows.add(row("leaving: the deadline is 2 x loop_wait", () -> SyncLeave.deadlineMs(1000, 10), 21_000L));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // TaskFailure (§3.12, §3.14)
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> taskFailure() {
    List<Row> rows = new ArrayList<>();
    rows.add(row("task failed: bootstrap: give the initialize key back",
        () -> TaskFailure.after(Task.BOOTSTRAP, "initdb exited with 1"),
        new Decision(new Action.CancelBootstrap(), Reason.BOOTSTRAP_FAILED,
            "bootstrap failed: removing the initialize key so that another member may try (initdb exited with 1)",
            List.of())));
    rows.add(row("task failed: bootstrap cancelled: the agent stops",
        () -> TaskFailure.afterBootstrapCancelled("initdb exited with 1"),
        new Decision(new Action.Fatal("bootstrap failed: initdb exited with 1"), Reason.BOOTSTRAP_FAILED,
            "bootstrap failed: initdb exited with 1", List.of())));
    rows.add(row("task failed: start: wait for loop_wait",
        () -> TaskFailure.after(Task.START, "postgres exited"),
        new Decision(new Action.None(), Reason.START_FAILED_RETRY_LATER,
            "start failed: postgres exited: trying again at the next loop_wait", List.of())));
    for (Task t : EnumSet.complementOf(EnumSet.of(Task.BOOTSTRAP, Task.START))) {
      rows.add(row("task failed: " + t.text() + ": the next cycle decides", () -> TaskFailure.after(t, "boom"),
          new Decision(new Action.None(), Reason.TASK_FAILED, t.text() + " failed: boom", List.of())));
    }
    rows.add(row("task failed: a cycle at once after a failed clone",
        () -> TaskFailure.cycleNow(TaskFailure.after(Task.CLONE, "x")), true));
    rows.add(row("task failed: no cycle at once after a failed start",
        () -> TaskFailure.cycleNow(TaskFailure.after(Task.START, "x")), false));
    rows.add(row("task failed: no cycle after a failed bootstrap (the agent stops)",
        () -> TaskFailure.cycleNow(TaskFailure.after(Task.BOOTSTRAP, "x")), false));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // ViewChange (the rule of onView)
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> viewChange() {
    ClusterView base = view("pg2", false, member(ME), member("pg2"));
    List<Row> rows = new ArrayList<>();
    rows.add(row("view: the first one runs a cycle", () -> ViewChange.trigger(null, base), "zookeeper"));
    rows.add(row("view: nothing changed", () -> ViewChange.trigger(base, copy(base, b -> b)), null));
    rows.add(row("view: another leader", () -> ViewChange.trigger(base, base.withLeader("pg3", false)),
        "zookeeper"));
    rows.add(row("view: the leader key gone", () -> ViewChange.trigger(base, base.withLeader(null, false)),
        "zookeeper"));
    rows.add(row("view: the same name, now our session's key",
        () -> ViewChange.trigger(base, base.withLeader("pg2", true)), "zookeeper"));
    rows.add(row("view: initialize written", () -> ViewChange.trigger(base, copy(base, b -> b.initialize("7711"))),
        "zookeeper"));
    FailoverRequest request = new FailoverRequest("pg2", ME, null);
    rows.add(row("view: a switchover requested",
        () -> ViewChange.trigger(base, copy(base, b -> b.failover(request))), "zookeeper"));
    rows.add(row("view: the switchover request cleared",
        () -> ViewChange.trigger(copy(base, b -> b.failover(request)), base), "zookeeper"));
    rows.add(row("view: the config changed",
        () -> ViewChange.trigger(copy(base, b -> b.config(cfg("{\"ttl\":30}"))),
            copy(base, b -> b.config(cfg("{\"ttl\":20}")))), "zookeeper"));
    rows.add(row("view: the config appeared", () -> ViewChange.trigger(base,
        copy(base, b -> b.config(cfg("{}")))), "zookeeper"));
    rows.add(row("view: the same config again", () -> ViewChange.trigger(copy(base, b -> b.config(cfg("{\"ttl\":20}"))),
        copy(base, b -> b.config(cfg("{\"ttl\":20}")))), null));
    rows.add(row("view: the sync key changed",
        () -> ViewChange.trigger(base, base.withSync(new SyncState("pg2", Set.of(ME), 1))), "zookeeper"));
    rows.add(row("view: a member started",
        () -> ViewChange.trigger(base, view("pg2", false, member(ME).withState("starting"), member("pg2"))),
        "zookeeper"));
    rows.add(row("view: a member's role changed",
        () -> ViewChange.trigger(base, view("pg2", false, member(ME), member("pg2").withRole("primary"))),
        "zookeeper"));
    rows.add(row("view: the new leader's checkpoint after promote finished (a rewind waits for it)",
        () -> ViewChange.trigger(view("pg2", false, member(ME), member("pg2").withCheckpointPending(true)), base),
        "zookeeper"));
    rows.add(row("view: a new leader's checkpoint after promote pending",
        () -> ViewChange.trigger(base, view("pg2", false, member(ME), member("pg2").withCheckpointPending(true))),
        "zookeeper"));
    rows.add(row("view: a member joined",
        () -> ViewChange.trigger(base, view("pg2", false, member(ME), member("pg2"), member("pg3"))), "zookeeper"));
    rows.add(row("view: a member left",
        () -> ViewChange.trigger(base, view("pg2", false, member("pg2"))), "zookeeper"));
    rows.add(row("view: only a member's WAL position moved (loop_wait will do)",
        () -> ViewChange.trigger(base, view("pg2", false, member(ME).withXlog(999L), member("pg2"))), null));
    rows.add(row("view: only the leader's optime moved",
        () -> ViewChange.trigger(base, copy(base, b -> b.optime(12345))), null));
    rows.add(row("view: only the history grew", () -> ViewChange.trigger(base, copy(base, b -> b.clusterTimeline(3))),
        null));
    rows.add(row("view: only the config error changed (the last valid config stays in force)",
        () -> ViewChange.trigger(base, copy(base, b -> b.configError("not a JSON object"))), null));
    LocalState stuck = REPLICA.toBuilder().diverged(true).rewindFailed(true).build();
    LocalState probed = REPLICA.toBuilder().peers(Map.of("pg2", new PeerStatus("pg2", true, false, 100L, 1, false, 1))).build();
    ClusterView other = base.withLeader("pg3", false);
    rows.add(row("view: a new leader: a replica whose pg_rewind failed tries again",
        () -> ViewChange.localAfter(base, other, stuck), REPLICA.toBuilder().diverged(true).build()));
    rows.add(row("view: the same leader: pg_rewind is not tried again",
        () -> ViewChange.localAfter(base, copy(base, b -> b.optime(5)), stuck), stuck));
    rows.add(row("view: a new leader: not diverged, a failed dry run stays failed",
        () -> ViewChange.localAfter(base, other, REPLICA.toBuilder().rewindFailed(true).build()),
        REPLICA.toBuilder().rewindFailed(true).build()));
    rows.add(row("view: a new leader: a former primary's data dir keeps its failed rewind",
        () -> ViewChange.localAfter(base, other, stuck.toBuilder().dataDir(DataDirState.PRIMARY).build()),
        stuck.toBuilder().dataDir(DataDirState.PRIMARY).build()));
    rows.add(row("view: a new leader makes the probe results stale",
        () -> ViewChange.localAfter(base, other, probed), REPLICA));
    rows.add(row("view: the leader key gone makes the probe results stale",
        () -> ViewChange.localAfter(base, base.withLeader(null, false), probed), REPLICA));
    rows.add(row("view: the same leader keeps the probe results",
        () -> ViewChange.localAfter(base, copy(base, b -> b.optime(5)), probed), probed));
    rows.add(row("view: the first view changes nothing local", () -> ViewChange.localAfter(null, base, stuck),
        stuck));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // LeaderHeartbeat (the rule of ensureHeartbeat)
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> heartbeat() {
    List<Row> rows = new ArrayList<>();
    // leaderIsMe, shuttingDown, paused, postmasterAlive, runningPrimary, confirmingNow -> confirm
    Object[][] table = {
        {"holding the key: start confirming", true, false, false, true, true, false, true},
        {"holding the key: keep confirming", true, false, false, true, true, true, true},
        {"holding the key, postgres down (crash): keep confirming", true, false, false, false, false, true, true},
        {"holding the key while postgres stops for shutdown: keep confirming", true, true, false, true, false, true,
            true},
        {"holding the key, shut down, postgres down: stop", true, true, false, false, false, true, false},
        {"holding the key, shutting down in pause: stop", true, true, true, true, true, true, false},
        {"holding the key in pause: confirm", true, false, true, true, true, false, true},
        {"not the key holder, never confirming: nothing starts", false, false, false, true, true, false, false},
        {"key lost, still a running primary: keep confirming until demoted", false, false, false, true, true, true,
            true},
        {"key lost, postgres no longer primary: stop", false, false, false, true, false, true, false},
        {"key lost, shutting down: stop", false, true, false, true, true, true, false},
        {"a replica: nothing", false, false, false, true, false, false, false},
    };
    for (Object[] r : table) {
      rows.add(row("heartbeat: " + r[0], () -> LeaderHeartbeat.shouldConfirm((boolean) r[1], (boolean) r[2],
          (boolean) r[3], (boolean) r[4], (boolean) r[5], (boolean) r[6]), r[7]));
    }
    rows.add(row("heartbeat: every ttl/10 (ttl 30: at most 1 s)", () -> LeaderHeartbeat.periodMs(30), 1000L));
    rows.add(row("heartbeat: ttl 10: 1 s", () -> LeaderHeartbeat.periodMs(10), 1000L));
    rows.add(row("heartbeat: ttl 5: 500 ms", () -> LeaderHeartbeat.periodMs(5), 500L));
    rows.add(row("heartbeat: ttl 3: 300 ms", () -> LeaderHeartbeat.periodMs(3), 300L));
    rows.add(row("heartbeat: at least 100 ms", () -> LeaderHeartbeat.periodMs(0), 100L));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // TimelineCheck.applies (the guard of checkTimelineDivergence; TimelineCheckTest has due's table)
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> timelineCheck() {
    ClusterView ledByOther = view("pg2", false, member(ME), member("pg2"));
    List<Row> rows = new ArrayList<>();
    rows.add(row("timeline check: a running replica following another member",
        () -> TimelineCheck.applies(ledByOther, REPLICA, false, false), true));
    rows.add(row("timeline check: no view", () -> TimelineCheck.applies(null, REPLICA, false, false), false));
    rows.add(row("timeline check: no leader",
        () -> TimelineCheck.applies(ledByOther.withLeader(null, false), REPLICA, false, false), false));
    rows.add(row("timeline check: the leader is me",
        () -> TimelineCheck.applies(ledByOther.withLeader(ME, true), PRIMARY, false, false), false));
    rows.add(row("timeline check: the key names me from an old session",
        () -> TimelineCheck.applies(ledByOther.withLeader(ME, false), REPLICA, false, false), false));
    rows.add(row("timeline check: paused", () -> TimelineCheck.applies(ledByOther, REPLICA, true, false), false));
    rows.add(row("timeline check: nostream", () -> TimelineCheck.applies(ledByOther, REPLICA, false, true), false));
    rows.add(row("timeline check: a task in flight",
        () -> TimelineCheck.applies(ledByOther, REPLICA.toBuilder().task(Task.RESTART).build(), false, false),
        false));
    rows.add(row("timeline check: postgres stopped", () -> TimelineCheck.applies(ledByOther, STOPPED, false, false),
        false));
    rows.add(row("timeline check: running as primary", () -> TimelineCheck.applies(ledByOther, PRIMARY, false,
        false), false));
    rows.add(row("timeline check: after a failure, again in 1 s",
        () -> 50_000 - TimelineCheck.startedAtAfterFailure(50_000), TimelineCheck.REPEAT_MS - 1000));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // RestartRequest.fromMap (the bus body)
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> restartRequest() {
    List<Row> rows = new ArrayList<>();
    rows.add(row("request: empty body", () -> RestartRequest.fromMap(Map.of()), RestartRequest.NOW));
    rows.add(row("request: no body", () -> RestartRequest.fromMap(null), RestartRequest.NOW));
    rows.add(row("request: DELETE /restart", () -> RestartRequest.fromMap(Map.of("cancel", true)),
        RestartRequest.CANCEL));
    rows.add(row("request: every key", () -> RestartRequest.fromMap(Map.of("role", "replica", "postgres_version",
        "16.2", "restart_pending", true, "schedule", "2026-11-24T06:00:00+00:00", "timeout", 30)),
        new RestartRequest("replica", "16.2", true, "2026-11-24T06:00:00+00:00", false, 30L)));
    rows.add(row("request: values of the wrong type count as absent",
        () -> RestartRequest.fromMap(Map.of("role", 1, "postgres_version", 16, "restart_pending", "yes",
            "cancel", "true", "timeout", "30")),
        RestartRequest.NOW));
    rows.add(row("request: the conditions keep the API's keys in the member key",
        () -> new RestartRequest("primary", "16.2", false, "s", false, 60L).conditionFields(),
        orderedMap("role", "primary", "postgres_version", "16.2", "timeout", 60L, "restart_pending", false)));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // The loop's smaller rules: the view it believes, the request after a won race, the wake for a scheduled
  // switchover, shutdown, and the facts it feeds the core and the fencing guard
  // ---------------------------------------------------------------------------------------------------------------

  static List<Row> loopRules() {
    ClusterView mine = view(ME, true, member(ME), member("pg2"));
    ClusterView theirs = view("pg2", false, member(ME), member("pg2"));
    FailoverRequest toMe = new FailoverRequest("pg2", ME, null);
    FailoverRequest toOther = new FailoverRequest("pg2", "pg3", null);
    FailoverRequest failoverToMe = new FailoverRequest(null, ME, null);
    FailoverRequest scheduled = new FailoverRequest("pg2", ME, 1_000_000L);
    List<Row> rows = new ArrayList<>();
    rows.add(row("seen: our key after we released it is an older view: no leader",
        () -> ViewChange.seen(mine, true), mine.withLeader(null, false)));
    rows.add(row("seen: our key, not released", () -> ViewChange.seen(mine, false), mine));
    rows.add(row("seen: released, and the view already shows another leader",
        () -> ViewChange.seen(theirs, true), theirs));
    rows.add(row("seen: no view", () -> ViewChange.seen(null, true), null));
    rows.add(row("race won: the request is done", () -> Switchover.clearRequestAfterWin(toMe, ME, false), true));
    rows.add(row("race won in pause, the request names me: it stays until I promote",
        () -> Switchover.clearRequestAfterWin(toMe, ME, true), false));
    rows.add(row("race won in pause, a failover naming me: it stays too",
        () -> Switchover.clearRequestAfterWin(failoverToMe, ME, true), false));
    rows.add(row("race won in pause, the request names another member: cleared",
        () -> Switchover.clearRequestAfterWin(toOther, ME, true), true));
    rows.add(row("race won without a request: nothing to clear",
        () -> Switchover.clearRequestAfterWin(null, ME, false), false));
    rows.add(row("scheduled switchover: due before the next loop_wait: wake for it",
        () -> Switchover.wakeInMs(scheduled, 995_000, 10_000), 5_000L));
    rows.add(row("scheduled switchover: loop_wait comes first",
        () -> Switchover.wakeInMs(scheduled, 990_000, 10_000), -1L));
    rows.add(row("scheduled switchover: due already (the cycle handles it)",
        () -> Switchover.wakeInMs(scheduled, 1_000_000, 10_000), -1L));
    rows.add(row("switchover not scheduled: no wake", () -> Switchover.wakeInMs(toMe, 995_000, 10_000), -1L));
    rows.add(row("no request: no wake", () -> Switchover.wakeInMs(null, 995_000, 10_000), -1L));
    rows.add(row("shutdown: a leader stops postgres, then writes its position and releases the key",
        () -> Shutdown.plan(false, true), new Shutdown(true, true, true, false, "stopping postgres")));
    rows.add(row("shutdown: a replica stops postgres", () -> Shutdown.plan(false, false),
        new Shutdown(true, false, false, false, "stopping postgres")));
    rows.add(row("shutdown in pause: postgres keeps running, unfenced, the key expires with the session",
        () -> Shutdown.plan(true, true), new Shutdown(false, false, false, true, "paused: leaving postgres running")));
    rows.add(row("shutdown in pause, a replica", () -> Shutdown.plan(true, false),
        new Shutdown(false, false, false, true, "paused: leaving postgres running")));
    rows.add(row("session: connected again: a cycle", () -> ViewChange.healthTrigger(false, true),
        "zookeeper connection"));
    rows.add(row("session: disconnected: a cycle", () -> ViewChange.healthTrigger(true, false),
        "zookeeper connection"));
    rows.add(row("session: still connected", () -> ViewChange.healthTrigger(true, true), null));
    rows.add(row("reload: running postgres is reloaded", () -> Operations.reloadPostgres(REPLICA), true));
    rows.add(row("reload: not while a task runs",
        () -> Operations.reloadPostgres(REPLICA.toBuilder().task(Task.RESTART).build()), false));
    rows.add(row("reload: not while postgres starts",
        () -> Operations.reloadPostgres(REPLICA.toBuilder().pg(PgRunState.STARTING).build()), false));
    rows.add(row("reload: stopped postgres", () -> Operations.reloadPostgres(STOPPED), false));
    return rows;
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Coverage: every reason outside HaCore (but the loop's own) has a row
  // ---------------------------------------------------------------------------------------------------------------

  @Test
  void everyReasonOutsideHaCoreHasARow() {
    Set<Reason> produced = table().map(r -> r.actual().get())
        .map(o -> o instanceof Decision d ? d.reason() : o instanceof OperationVerdict v ? v.reason() : null)
        .filter(r -> r != null).collect(Collectors.toCollection(() -> EnumSet.noneOf(Reason.class)));
    Set<Reason> expected = EnumSet.copyOf(HaCoreTest.NOT_PRODUCED_BY_HACORE);
    expected.removeAll(EnumSet.of(Reason.NO_LEADER_WAITING, Reason.SHUTDOWN)); // the HA loop's, or unused
    assertThat(produced).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void everyVerdictStatusIsOneTheRestApiRelays() {
    table().map(r -> r.actual().get()).filter(o -> o instanceof OperationVerdict).map(o -> (OperationVerdict) o)
        .forEach(v -> {
          assertThat(v.httpStatus()).isIn(200, 202, 400, 404, 409, 503);
          assertThat(v.accepted()).as(v.toString()).isEqualTo(v.httpStatus() < 300);
          assertThat(v.message()).isNotBlank();
        });
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Fixtures
  // ---------------------------------------------------------------------------------------------------------------

  static Map<String, Long> nullValued(String name) {
    Map<String, Long> m = new HashMap<>();
    m.put(name, null);
    return m;
  }

  static Map<String, Object> orderedMap(Object... kv) {
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) m.put((String) kv[i], kv[i + 1]);
    return m;
  }

  static DynamicConfig cfg(String json) {
    try {
      return DynamicConfigJson.parse(JSON.readTree(json));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A running member of the view; tweak with the {@code with...} copies. */
  static M member(String name) {
    return new M(new MemberRecord(name, "postgres://" + name + ":5432/postgres", "http://" + name + ":8008/patroni",
        "running", "replica", 100L, 1,
        false, null, false, false, null, false));
  }

  static M nofailover(String name) {
    MemberRecord r = member(name).record();
    return new M(new MemberRecord(r.name(), r.connUrl(), r.apiUrl(), r.state(), r.role(), r.xlogLocation(),
        r.timeline(), true, null, false, false, null, false));
  }

  record M(MemberRecord record) {
    M withState(String state) {
      MemberRecord r = record;
      return new M(new MemberRecord(r.name(), r.connUrl(), r.apiUrl(), state, r.role(), r.xlogLocation(),
          r.timeline(), r.nofailover(), r.failoverPriority(), r.clonefrom(), r.nostream(), r.replicatefrom(),
          r.checkpointAfterPromotePending()));
    }

    M withRole(String role) {
      MemberRecord r = record;
      return new M(new MemberRecord(r.name(), r.connUrl(), r.apiUrl(), r.state(), role, r.xlogLocation(),
          r.timeline(), r.nofailover(), r.failoverPriority(), r.clonefrom(), r.nostream(), r.replicatefrom(),
          r.checkpointAfterPromotePending()));
    }

    M withCheckpointPending(boolean pending) {
      MemberRecord r = record;
      return new M(new MemberRecord(r.name(), r.connUrl(), r.apiUrl(), r.state(), r.role(), r.xlogLocation(),
          r.timeline(), r.nofailover(), r.failoverPriority(), r.clonefrom(), r.nostream(), r.replicatefrom(),
          pending));
    }

    M withXlog(Long xlog) {
      MemberRecord r = record;
      return new M(new MemberRecord(r.name(), r.connUrl(), r.apiUrl(), r.state(), r.role(), xlog,
          r.timeline(), r.nofailover(), r.failoverPriority(), r.clonefrom(), r.nostream(), r.replicatefrom(),
          r.checkpointAfterPromotePending()));
    }
  }

  static ClusterView view(String leader, boolean leaderIsMe, M... members) {
    Map<String, MemberRecord> map = new LinkedHashMap<>();
    for (M m : members) map.put(m.record().name(), m.record());
    return new ClusterView(leader, leaderIsMe, Map.copyOf(map), "7711537902423831623", null, null, 2, 100, null,
        SyncState.EMPTY);
  }

  /** A copy of a view with some components changed. */
  static ClusterView copy(ClusterView v, UnaryOperator<ViewBuilder> change) {
    return change.apply(new ViewBuilder(v)).build();
  }

  static final class ViewBuilder {
    private String leader;
    private boolean leaderIsMe;
    private Map<String, MemberRecord> members;
    private String initialize;
    private DynamicConfig config;
    private FailoverRequest failover;
    private int clusterTimeline;
    private long optime;
    private String configError;
    private SyncState sync;

    ViewBuilder(ClusterView v) {
      leader = v.leader(); leaderIsMe = v.leaderIsMe(); members = v.members(); initialize = v.initialize();
      config = v.config(); failover = v.failover(); clusterTimeline = v.clusterTimeline(); optime = v.optime();
      configError = v.configError(); sync = v.sync();
    }

    ViewBuilder initialize(String x) { initialize = x; return this; }
    ViewBuilder config(DynamicConfig x) { config = x; return this; }
    ViewBuilder failover(FailoverRequest x) { failover = x; return this; }
    ViewBuilder clusterTimeline(int x) { clusterTimeline = x; return this; }
    ViewBuilder optime(long x) { optime = x; return this; }
    ViewBuilder configError(String x) { configError = x; return this; }

    ClusterView build() {
      return new ClusterView(leader, leaderIsMe, members, initialize, config, failover, clusterTimeline, optime,
          configError, sync);
    }
  }
}
