package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.decision.Action.StopMode;
import io.pgha.decision.Decision.LeaderDuty;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The decision table of {@link HaCore#decide}: one row per situation, named like a sentence, with the action and the
 * reason code it must produce (patroni-compat §3). Every reason HaCore can return has at least one row; see
 * {@link #tableCoversEveryReasonHaCoreCanReturn()}.
 */
class HaCoreTest {
  static final String ME = "pg1";
  static final String SYSID = "7711537902423831623";
  static final String OTHER_SYSID = "6911537902423831999";
  static final long NOW = 1_000_000;
  static final long NOW_EPOCH_MS = 1_795_000_000_000L;
  static final long LOCK_CONFIRMED = 900_000;

  /**
   * Reasons in the enum that HaCore never returns: the other pure functions' (each with its own table test, see
   * {@link DecisionFunctionsTest#everyReasonOutsideHaCoreHasARow()}), the HA loop's, or not implemented yet.
   */
  static final Set<Reason> NOT_PRODUCED_BY_HACORE = EnumSet.of(Reason.BOOTSTRAP_FAILED, Reason.NO_LEADER_WAITING,
      Reason.SHUTDOWN,
      Reason.SWITCHOVER_HANDED_OVER, Reason.SWITCHOVER_REJOIN_PAUSED, Reason.SWITCHOVER_CANDIDATE_BEHIND,
      Reason.RESTART_ACCEPTED, Reason.RESTART_CONDITIONS_UNMET, Reason.RESTART_DONE, Reason.RESTART_FAILED,
      Reason.RESTART_SCHEDULED, Reason.RESTART_ALREADY_SCHEDULED, Reason.RESTART_SCHEDULE_INVALID,
      Reason.RESTART_SCHEDULE_DELETED, Reason.NO_RESTART_SCHEDULED, Reason.BUSY, Reason.REINIT_ACCEPTED,
      Reason.REINIT_NO_LEADER, Reason.REINIT_I_AM_LEADER, Reason.START_FAILED_RETRY_LATER, Reason.TASK_FAILED);

  // ---------------------------------------------------------------------------------------------------------------
  // The table
  // ---------------------------------------------------------------------------------------------------------------

  static Stream<Scenario> table() {
    List<Scenario> rows = new ArrayList<>();

    // §1.5, §3.15: DCS unreachable
    rows.add(scenario("dcs lost: a running replica keeps streaming")
        .dcsLost().runningReplica().upstream("pg2")
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("dcs lost: a stopped member with replica data starts read-only without upstream")
        .dcsLost().stopped(DataDirState.REPLICA)
        .expect(new Action.StartReplica(null), Reason.DCS_UNREACHABLE_READONLY));
    rows.add(scenario("dcs session disconnected, cached view: a stopped former primary starts read-only")
        .ledBy("pg2").local(b -> b.dcsConnected(false)).stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true))
        .expect(new Action.StartReplica(null), Reason.DCS_UNREACHABLE_READONLY));
    rows.add(scenario("dcs lost: a stopped member whose last start failed is not started again")
        .dcsLost().stopped(DataDirState.REPLICA).local(b -> b.startAttemptFailed(true))
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("dcs lost: a stopped member with an empty data dir waits")
        .dcsLost().emptyDataDir()
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("dcs lost: an agent shutting down does not start postgres")
        .dcsLost().stopped(DataDirState.REPLICA).local(b -> b.shuttingDown(true))
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("dcs lost: a primary within the grace keeps running")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 9_999)
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("dcs lost: a primary after the grace (retry_timeout) stops fast, escalating before expiry")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 10_000)
        // escalateAfterMs = lockConfirmed + min(sessionTtl, ttl) - 1000 - now = 900000 + 30000 - 1000 - 910000
        .expect(new Action.Stop(StopMode.FAST, false, 19_000), Reason.DCS_UNREACHABLE_DEMOTE)
        .message("demoted self because DCS is not accessible and I was a leader"));
    rows.add(scenario("dcs lost: a negotiated session shorter than ttl shortens grace and deadline")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).local(b -> b.sessionTtlMs(16_000))
        .at(LOCK_CONFIRMED + 8_000) // grace = min(retry 10s, 16s/2)
        .expect(new Action.Stop(StopMode.FAST, false, 7_000), Reason.DCS_UNREACHABLE_DEMOTE));
    rows.add(scenario("dcs lost: within the shortened grace of a short session nothing happens yet")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).local(b -> b.sessionTtlMs(16_000))
        .at(LOCK_CONFIRMED + 7_999)
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("dcs lost: a ttl below the negotiated session is what counts")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).cfg("{\"ttl\":12}") // retry_timeout fitted to 5
        .at(LOCK_CONFIRMED + 5_000)
        .expect(new Action.Stop(StopMode.FAST, false, 900_000 + 12_000 - 1000 - 905_000), Reason.DCS_UNREACHABLE_DEMOTE));
    rows.add(scenario("dcs lost: past the session expiry the stop escalates at once (1 ms)")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 60_000)
        .expect(new Action.Stop(StopMode.FAST, false, 1), Reason.DCS_UNREACHABLE_DEMOTE));
    rows.add(scenario("dcs lost: a replica being promoted is fenced like a primary")
        .dcsLost().runningReplica().task(Task.PROMOTE).lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 20_000)
        .expect(new Action.Stop(StopMode.FAST, false, 9_000), Reason.DCS_UNREACHABLE_DEMOTE));
    rows.add(scenario("dcs lost: a primary already being stopped is left to stop")
        .dcsLost().runningPrimary().task(Task.STOP).lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 20_000)
        .expect(none(), Reason.PG_STOPPING));
    rows.add(scenario("dcs lost: the bootstrapping winner (never held the key) is not fenced")
        .dcsLost().initializing().runningPrimary().task(Task.BOOTSTRAP).local(b -> b.wonInitializeRace(true))
        .lockConfirmedAt(0).at(NOW)
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("dcs lost while paused: the primary keeps running")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).paused().at(LOCK_CONFIRMED + 60_000)
        .expect(none(), Reason.DCS_UNREACHABLE));

    // stale leader key of my previous session
    rows.add(scenario("stale own key: a running primary waits for it to expire")
        .staleOwnKey().member(primary(ME)).runningPrimary()
        .expect(none(), Reason.STALE_OWN_KEY));
    rows.add(scenario("stale own key: an empty data dir never clones from itself")
        .staleOwnKey().member(primary(ME)).emptyDataDir()
        .expect(none(), Reason.STALE_OWN_KEY));
    rows.add(scenario("stale own key: a former primary never rewinds from itself")
        .staleOwnKey().member(primary(ME)).stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true))
        .expect(none(), Reason.STALE_OWN_KEY));
    rows.add(scenario("stale own key: a running replica never follows itself")
        .staleOwnKey().runningReplica().upstream(null)
        .expect(none(), Reason.STALE_OWN_KEY));

    // §3.12: one task at a time
    rows.add(scenario("task in progress: a clone runs to its end")
        .ledBy("pg2").emptyDataDir().task(Task.CLONE)
        .expect(none(), Reason.TASK_IN_PROGRESS).message("clone in progress"));
    rows.add(scenario("task in progress: the key owner restarting its primary")
        .iLead().runningPrimary().task(Task.RESTART)
        .expect(none(), Reason.TASK_IN_PROGRESS).message("restart in progress"));
    rows.add(scenario("task in progress: the owner's promote is not interrupted")
        .iLead().runningReplica().task(Task.PROMOTE)
        .expect(none(), Reason.TASK_IN_PROGRESS));
    rows.add(scenario("lost lock during task: a primary restarting while pg2 leads stops immediately")
        .ledBy("pg2").runningPrimary().task(Task.RESTART)
        .expect(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.LOST_LOCK_DURING_TASK)
        .message("lost leader lock during restart"));
    rows.add(scenario("lost lock during task: a promote while pg2 leads is stopped immediately")
        .ledBy("pg2").runningReplica().task(Task.PROMOTE)
        .expect(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.LOST_LOCK_DURING_TASK));
    rows.add(scenario("lost lock during a demote: the running stop is not doubled")
        .ledBy("pg2").runningPrimary().task(Task.DEMOTE)
        .expect(none(), Reason.TASK_IN_PROGRESS));
    rows.add(scenario("a replica's task while pg2 leads is left alone")
        .ledBy("pg2").runningReplica().task(Task.RESTART)
        .expect(none(), Reason.TASK_IN_PROGRESS));

    // postmaster in transition
    rows.add(scenario("postgres stopping: wait")
        .ledBy("pg2").local(b -> b.pg(PgRunState.STOPPING).dataDir(DataDirState.REPLICA))
        .expect(none(), Reason.PG_STOPPING));
    rows.add(scenario("postgres starting: wait")
        .ledBy("pg2").local(b -> b.pg(PgRunState.STARTING).inRecovery(true).dataDir(DataDirState.REPLICA))
        .expect(none(), Reason.PG_STARTING));

    // §3.3 step 10: system identifier
    rows.add(scenario("sysid mismatch: a member of another cluster stops the agent")
        .ledBy("pg2").runningReplica().sysid(OTHER_SYSID)
        .expect(new Action.Fatal(Reason.SYSID_MISMATCH.format(OTHER_SYSID, SYSID)), Reason.SYSID_MISMATCH));
    rows.add(scenario("sysid mismatch: the key owner gives the key back first")
        .iLead().runningPrimary().sysid(OTHER_SYSID)
        .expect(new Action.ReleaseLeader(), Reason.SYSID_MISMATCH));
    rows.add(scenario("sysid mismatch while paused: only a warning")
        .ledBy("pg2").runningReplica().sysid(OTHER_SYSID).paused()
        .expect(none(), Reason.SYSID_MISMATCH));
    rows.add(scenario("sysid mismatch with postgres down: no start either")
        .ledBy("pg2").stopped(DataDirState.REPLICA).sysid(OTHER_SYSID)
        .expect(new Action.Fatal(Reason.SYSID_MISMATCH.format(OTHER_SYSID, SYSID)), Reason.SYSID_MISMATCH));
    rows.add(scenario("initialize not a valid sysid: no mismatch check, the member follows")
        .ledBy("pg2").initialize("12345").runningReplica().sysid(OTHER_SYSID).upstream("pg2")
        .expect(none(), Reason.FOLLOWING).duties(new LeaderDuty.SyncSlots()));

    // §3.14: empty data directory
    rows.add(scenario("empty data dir, no leader, no initialize: race for initialize")
        .initialize(null).emptyDataDir()
        .expect(new Action.RaceInitialize(), Reason.BOOTSTRAP_RACE));
    rows.add(scenario("empty data dir, initialize race won: bootstrap")
        .initializing().emptyDataDir().local(b -> b.wonInitializeRace(true))
        .expect(new Action.Bootstrap(), Reason.BOOTSTRAP_NEW_CLUSTER));
    rows.add(scenario("empty data dir, race won but the view does not show initialize yet: bootstrap")
        .initialize(null).emptyDataDir().local(b -> b.wonInitializeRace(true))
        .expect(new Action.Bootstrap(), Reason.BOOTSTRAP_NEW_CLUSTER));
    rows.add(scenario("empty data dir, another member bootstraps: wait")
        .initializing().emptyDataDir()
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("empty data dir, initialized cluster without leader: wait")
        .emptyDataDir().member(replica("pg2", 100))
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("empty data dir, no bootstrap section: wait for a leader")
        .initialize(null).emptyDataDir().noBootstrapSection()
        .expect(none(), Reason.BOOTSTRAP_NO_CONFIG));
    rows.add(scenario("empty data dir, nofailover cannot bootstrap")
        .initialize(null).emptyDataDir().nofailover()
        .expect(none(), Reason.BOOTSTRAP_NO_CONFIG));
    rows.add(scenario("empty data dir, failover_priority 0 cannot bootstrap")
        .initialize(null).emptyDataDir().failoverPriority(0)
        .expect(none(), Reason.BOOTSTRAP_NO_CONFIG));
    rows.add(scenario("empty data dir, running leader: clone from the leader")
        .ledBy("pg2").member(replica("pg3", 100)).emptyDataDir()
        .expect(new Action.Clone("pg2"), Reason.CLONE_FROM_LEADER).message("trying to bootstrap from leader 'pg2'"));
    rows.add(scenario("empty data dir, running clonefrom member: clone from it")
        .ledBy("pg2").member(replica("pg4", 100).clonefrom()).member(replica("pg3", 100).clonefrom()).emptyDataDir()
        .expect(new Action.Clone("pg3"), Reason.CLONE_FROM_REPLICA).message("trying to bootstrap from replica 'pg3'"));
    rows.add(scenario("reinitialize from_leader: clone from the leader despite a clonefrom member")
        .ledBy("pg2").member(replica("pg3", 100).clonefrom()).emptyDataDir().local(b -> b.cloneFromLeader(true))
        .expect(new Action.Clone("pg2"), Reason.CLONE_FROM_LEADER));
    rows.add(scenario("empty data dir, the only clonefrom member is stopped: clone from the leader")
        .ledBy("pg2").member(replica("pg3", 100).clonefrom().state("stopped")).emptyDataDir()
        .expect(new Action.Clone("pg2"), Reason.CLONE_FROM_LEADER));
    rows.add(scenario("empty data dir, clonefrom member without conn_url: clone from the leader")
        .ledBy("pg2").member(replica("pg3", 100).clonefrom().connUrl(null)).emptyDataDir()
        .expect(new Action.Clone("pg2"), Reason.CLONE_FROM_LEADER));
    rows.add(scenario("empty data dir, the leader tagged clonefrom is still the leader")
        .leader("pg2").member(primary("pg2").clonefrom()).emptyDataDir()
        .expect(new Action.Clone("pg2"), Reason.CLONE_FROM_LEADER));
    rows.add(scenario("empty data dir, a clonefrom record under my own name is ignored")
        .ledBy("pg2").member(replica(ME, 100).clonefrom()).emptyDataDir()
        .expect(new Action.Clone("pg2"), Reason.CLONE_FROM_LEADER));
    rows.add(scenario("empty data dir, leader not running yet: wait")
        .leader("pg2").member(primary("pg2").state("starting")).emptyDataDir()
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("empty data dir, leader without member key: wait")
        .leader("pg2").emptyDataDir()
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("empty data dir, leader without conn_url: wait")
        .leader("pg2").member(primary("pg2").connUrl(null)).emptyDataDir()
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("empty data dir, I hold the key: release it")
        .iLead().member(replica("pg2", 100)).emptyDataDir()
        .expect(new Action.ReleaseLeader(), Reason.DATA_DIR_EMPTY_RELEASE));
    rows.add(scenario("empty data dir, I hold the key while paused: release it anyway")
        .iLead().emptyDataDir().paused()
        .expect(new Action.ReleaseLeader(), Reason.DATA_DIR_EMPTY_RELEASE));
    rows.add(scenario("empty data dir while paused: nothing is bootstrapped or cloned")
        .ledBy("pg2").emptyDataDir().paused()
        .expect(none(), Reason.PAUSED).message("PAUSE: no action. I am (pg1)"));
    rows.add(scenario("unreadable data dir: do nothing")
        .ledBy("pg2").stopped(DataDirState.UNREADABLE)
        .expect(none(), Reason.DATA_DIR_UNREADABLE));

    // pgha: a view that says we lead, with the key unproven past the fence's grace, is stale (a frozen agent resumed)
    rows.add(scenario("owner, key unconfirmed for 20 s, postgres fenced meanwhile: no restart as primary, wait")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).local(b -> b.crashed(true))
        .lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 20_000)
        .expect(none(), Reason.LOCK_UNCONFIRMED));
    rows.add(scenario("owner, key unconfirmed for retry_timeout while connected, primary running: fenced")
        .iLead().member(replica("pg2", 100)).runningPrimary().lockConfirmedAt(LOCK_CONFIRMED)
        .at(LOCK_CONFIRMED + 10_000)
        .expect(new Action.Stop(StopMode.FAST, false, 19_000), Reason.DCS_UNREACHABLE_DEMOTE));
    rows.add(scenario("owner, key confirmed within retry_timeout: crashed primary restarts")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).local(b -> b.crashed(true))
        .lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 9_999)
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));

    // §3.10: the key holder's postgres is down
    rows.add(scenario("owner, postgres crashed: start it as primary")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).local(b -> b.crashed(true))
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));
    rows.add(scenario("owner, primary_start_timeout 0 and an eligible peer: release for failover")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).cfg("{\"primary_start_timeout\":0}")
        .expect(new Action.ReleaseLeader(), Reason.CRASH_FAILOVER));
    rows.add(scenario("owner, primary_start_timeout 0 (legacy master_start_timeout) and an eligible peer: release")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).cfg("{\"master_start_timeout\":0}")
        .expect(new Action.ReleaseLeader(), Reason.CRASH_FAILOVER));
    rows.add(scenario("owner, primary_start_timeout 0, only a nofailover peer: start primary")
        .iLead().member(replica("pg2", 100).nofailover()).stopped(DataDirState.PRIMARY)
        .cfg("{\"primary_start_timeout\":0}")
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));
    rows.add(scenario("owner, primary_start_timeout 0, peer not running: start primary")
        .iLead().member(replica("pg2", 100).state("stopped")).stopped(DataDirState.PRIMARY)
        .cfg("{\"primary_start_timeout\":0}")
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));
    rows.add(scenario("owner, primary_start_timeout 0, peer with failover_priority 0: start primary")
        .iLead().member(replica("pg2", 100).priority(0)).stopped(DataDirState.PRIMARY)
        .cfg("{\"primary_start_timeout\":0}")
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));
    rows.add(scenario("owner, down longer than primary_start_timeout with a peer: release")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).cfg("{\"primary_start_timeout\":60}")
        .local(b -> b.pgDownSinceMs(NOW - 60_001))
        .expect(new Action.ReleaseLeader(), Reason.PRIMARY_START_TIMEOUT));
    rows.add(scenario("owner, down exactly primary_start_timeout: still start")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).cfg("{\"primary_start_timeout\":60}")
        .local(b -> b.pgDownSinceMs(NOW - 60_000))
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));
    rows.add(scenario("owner, down too long but nobody to take over: keep starting")
        .iLead().stopped(DataDirState.PRIMARY).cfg("{\"primary_start_timeout\":60}")
        .local(b -> b.pgDownSinceMs(NOW - 600_000))
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));
    rows.add(scenario("owner, start failed and a peer can take over: release")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).local(b -> b.startAttemptFailed(true))
        .expect(new Action.ReleaseLeader(), Reason.START_FAILED_RELEASE));
    rows.add(scenario("owner, start failed, nobody to take over: try again")
        .iLead().stopped(DataDirState.PRIMARY).local(b -> b.startAttemptFailed(true))
        .expect(new Action.StartPrimary(), Reason.START_PRIMARY_AFTER_CRASH));
    rows.add(scenario("owner with a replica data dir: start read-only, promote later")
        .iLead().member(replica("pg2", 100)).stopped(DataDirState.REPLICA)
        .expect(new Action.StartReplica(null), Reason.START_READONLY_OWNER));

    // §3.13: a former primary rejoins
    rows.add(scenario("former primary, unclean shutdown: crash recovery first")
        .ledBy("pg2").stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(false))
        .expect(new Action.CrashRecovery(), Reason.CRASH_RECOVERY));
    rows.add(scenario("former primary, clean shutdown, use_pg_rewind: rewind from the leader")
        .ledBy("pg2").stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true))
        .expect(new Action.Rewind("pg2", false), Reason.REWIND).message("running pg_rewind from pg2"));
    rows.add(scenario("former primary, clean shutdown, no use_pg_rewind: dry run only")
        .ledBy("pg2").stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true)).noPgRewind()
        .expect(new Action.Rewind("pg2", true), Reason.REWIND_CHECK));
    rows.add(scenario("former primary, leader is a Patroni 3.x 'master': rewind")
        .leader("pg2").member(primary("pg2").role("master")).stopped(DataDirState.PRIMARY)
        .local(b -> b.cleanShutdown(true))
        .expect(new Action.Rewind("pg2", false), Reason.REWIND));
    rows.add(scenario("former primary, replicatefrom pg3: still rewinds from the leader")
        .ledBy("pg2").member(replica("pg3", 100)).replicatefrom("pg3").stopped(DataDirState.PRIMARY)
        .local(b -> b.cleanShutdown(true))
        .expect(new Action.Rewind("pg2", false), Reason.REWIND));
    rows.add(scenario("former primary, leader's checkpoint after promote pending: wait before pg_rewind")
        .leader("pg2").member(primary("pg2").checkpointPending()).stopped(DataDirState.PRIMARY)
        .local(b -> b.cleanShutdown(true))
        .expect(none(), Reason.REWIND_WAIT_CHECKPOINT)
        .message("waiting for pg2 to finish its checkpoint after promote before pg_rewind"));
    rows.add(scenario("former primary, leader's checkpoint pending: the dry run waits too")
        .leader("pg2").member(primary("pg2").checkpointPending()).stopped(DataDirState.PRIMARY)
        .local(b -> b.cleanShutdown(true)).noPgRewind()
        .expect(none(), Reason.REWIND_WAIT_CHECKPOINT));
    rows.add(scenario("former primary, leader's checkpoint pending: crash recovery need not wait")
        .leader("pg2").member(primary("pg2").checkpointPending()).stopped(DataDirState.PRIMARY)
        .local(b -> b.cleanShutdown(false))
        .expect(new Action.CrashRecovery(), Reason.CRASH_RECOVERY));
    rows.add(scenario("former primary, rewind failed: wipe the data dir")
        .ledBy("pg2").stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true).rewindFailed(true))
        .expect(new Action.WipeDataDir("cannot follow pg2"), Reason.REINIT_AFTER_REWIND));
    rows.add(scenario("former primary, leader still a replica (promoting): wait")
        .leader("pg2").member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true))
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("former primary, leader not running yet: wait")
        .leader("pg2").member(primary("pg2").state("starting")).stopped(DataDirState.PRIMARY)
        .local(b -> b.cleanShutdown(false))
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));

    // §3.13: a running replica whose WAL forked off the leader's timeline (issue 9)
    rows.add(scenario("diverged running replica, use_pg_rewind: stop fast to rewind")
        .ledBy("pg2").runningReplica().upstream("pg2").local(b -> b.diverged(true))
        .expect(new Action.Stop(StopMode.FAST, false, 10_000), Reason.DIVERGED_STOP_FOR_REWIND)
        .message("stopping postgres to run pg_rewind from pg2: my WAL goes past the point where its timeline forked"
            + " off mine"));
    rows.add(scenario("diverged running replica, still pointed at the old leader: stop before re-pointing")
        .ledBy("pg2").runningReplica().upstream("pg3").local(b -> b.diverged(true))
        .expect(new Action.Stop(StopMode.FAST, false, 10_000), Reason.DIVERGED_STOP_FOR_REWIND));
    rows.add(scenario("diverged running replica, no rewind, remove_data_directory_on_diverged_timelines: stop")
        .ledBy("pg2").runningReplica().upstream("pg2").local(b -> b.diverged(true)).noPgRewind().removeOnDiverged()
        .expect(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.DIVERGED_REINIT));
    rows.add(scenario("diverged running replica, no rewind, only remove_data_directory_on_rewind_failure: follows,"
        + " and says why it cannot")
        .ledBy("pg2").runningReplica().upstream("pg2").local(b -> b.diverged(true)).noPgRewind()
        .removeOnRewindFailure()
        .expect(none(), Reason.DIVERGED_CANNOT_FOLLOW));
    rows.add(scenario("diverged running replica, neither rewind nor flag, old upstream: re-points all the same")
        .ledBy("pg2").runningReplica().upstream("pg3").local(b -> b.diverged(true)).noPgRewind()
        .expect(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("diverged running replica, paused: nothing automatic")
        .ledBy("pg2").runningReplica().upstream("pg2").local(b -> b.diverged(true)).paused()
        .expect(none(), Reason.PAUSED));
    rows.add(scenario("not diverged running replica: keeps following")
        .ledBy("pg2").runningReplica().upstream("pg2").local(b -> b.diverged(false))
        .expect(none(), Reason.FOLLOWING).duties(new LeaderDuty.SyncSlots()));
    rows.add(scenario("diverged stopped replica, clean: rewind from the leader")
        .ledBy("pg2").stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(true).diverged(true))
        .expect(new Action.Rewind("pg2", false), Reason.REWIND).message("running pg_rewind from pg2"));
    rows.add(scenario("diverged stopped replica, unclean: crash recovery first")
        .ledBy("pg2").stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(false).diverged(true))
        .expect(new Action.CrashRecovery(), Reason.CRASH_RECOVERY));
    rows.add(scenario("diverged stopped replica, leader's checkpoint after promote pending: wait")
        .leader("pg2").member(primary("pg2").checkpointPending()).stopped(DataDirState.REPLICA)
        .local(b -> b.cleanShutdown(true).diverged(true))
        .expect(none(), Reason.REWIND_WAIT_CHECKPOINT));
    rows.add(scenario("diverged stopped replica, leader still promoting: wait")
        .leader("pg2").member(replica("pg2", 100)).stopped(DataDirState.REPLICA)
        .local(b -> b.cleanShutdown(true).diverged(true))
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("diverged stopped replica, rewind failed, no flag: stays stopped, says which key to set")
        .ledBy("pg2").stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(true).diverged(true).rewindFailed(true))
        .expect(none(), Reason.DIVERGED_REWIND_FAILED));
    rows.add(scenario("diverged stopped replica, rewind failed, remove_data_directory_on_rewind_failure: re-clone")
        .ledBy("pg2").stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(true).diverged(true).rewindFailed(true))
        .removeOnRewindFailure()
        .expect(new Action.WipeDataDir("pg_rewind from pg2 failed"), Reason.REINIT_AFTER_REWIND));
    rows.add(scenario("diverged stopped replica, rewind failed, remove_data_directory_on_diverged_timelines: re-clone")
        .ledBy("pg2").stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(true).diverged(true).rewindFailed(true))
        .removeOnDiverged()
        .expect(new Action.WipeDataDir("pg_rewind from pg2 failed"), Reason.REINIT_AFTER_REWIND));
    rows.add(scenario("diverged stopped replica, no rewind, remove_data_directory_on_diverged_timelines: re-clone")
        .ledBy("pg2").stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(false).diverged(true)).noPgRewind()
        .removeOnDiverged()
        .expect(new Action.WipeDataDir("diverged timelines"), Reason.DIVERGED_REINIT));
    rows.add(scenario("diverged stopped replica, neither rewind nor flag: starts following, as Patroni does")
        .ledBy("pg2").stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(true).diverged(true)).noPgRewind()
        .expect(new Action.StartReplica("pg2"), Reason.START_AS_SECONDARY));

    // postgres down, not the owner
    rows.add(scenario("no leader, no initialize, primary data: adopt it")
        .initialize(null).stopped(DataDirState.PRIMARY)
        .expect(new Action.WriteInitialize(SYSID), Reason.ADOPT_DATA_DIR));
    rows.add(scenario("no leader, replica data: start read-only")
        .stopped(DataDirState.REPLICA)
        .expect(new Action.StartReplica(null), Reason.START_NO_LEADER));
    rows.add(scenario("no leader, initialized, primary data: start read-only (the race decides later)")
        .stopped(DataDirState.PRIMARY)
        .expect(new Action.StartReplica(null), Reason.START_NO_LEADER));
    rows.add(scenario("leader exists, replica data: start following the leader")
        .ledBy("pg2").stopped(DataDirState.REPLICA)
        .expect(new Action.StartReplica("pg2"), Reason.START_AS_SECONDARY));
    rows.add(scenario("leader exists, replica data, replicatefrom pg3: start following pg3")
        .ledBy("pg2").member(replica("pg3", 100)).replicatefrom("pg3").stopped(DataDirState.REPLICA)
        .expect(new Action.StartReplica("pg3"), Reason.START_AS_SECONDARY));
    rows.add(scenario("leader exists, replica data, nostream: start without upstream")
        .ledBy("pg2").nostream().stopped(DataDirState.REPLICA)
        .expect(new Action.StartReplica(null), Reason.START_AS_SECONDARY));
    rows.add(scenario("paused, postgres down: nothing is started")
        .ledBy("pg2").stopped(DataDirState.REPLICA).paused()
        .expect(none(), Reason.PAUSED));

    // running postgres
    rows.add(scenario("running, status not known yet")
        .ledBy("pg2").local(b -> b.pg(PgRunState.RUNNING).inRecovery(null).dataDir(DataDirState.REPLICA))
        .expect(none(), Reason.PG_STATUS_UNKNOWN));
    rows.add(scenario("running replica, no initialize, no leader: stop the agent")
        .initialize(null).runningReplica()
        .expect(new Action.Fatal(Reason.RUNNING_REPLICA_UNINITIALIZED.format()), Reason.RUNNING_REPLICA_UNINITIALIZED));
    rows.add(scenario("running primary, no initialize, no leader: adopt it")
        .initialize(null).runningPrimary()
        .expect(new Action.WriteInitialize(SYSID), Reason.ADOPT_DATA_DIR).message(
            "adopting the existing data directory (system ID " + SYSID + ")"));
    rows.add(scenario("bootstrap done: publish the new cluster")
        .initializing().runningPrimary().local(b -> b.wonInitializeRace(true))
        .expect(new Action.FinishBootstrap(SYSID), Reason.BOOTSTRAP_FINISH));

    // §3.6.1: I hold the key
    rows.add(scenario("leader with lock, keys in order, no slots: nothing to do")
        .iLead().runningPrimary().cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.LEADER_WITH_LOCK).message("no action. I am (pg1), the leader with the lock"));
    rows.add(scenario("leader with lock, use_slots: sync slots")
        .iLead().runningPrimary()
        .expect(none(), Reason.LEADER_WITH_LOCK).duties(new LeaderDuty.SyncSlots()));
    rows.add(scenario("leader with lock, initialize missing: write it")
        .iLead().initialize(null).runningPrimary().cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.LEADER_WITH_LOCK).duties(new LeaderDuty.WriteInitialize(SYSID)));
    rows.add(scenario("leader with lock, initialize empty (failed bootstrap of another): write it")
        .iLead().initializing().runningPrimary().cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.LEADER_WITH_LOCK).duties(new LeaderDuty.WriteInitialize(SYSID)));
    rows.add(scenario("leader with lock, config missing: write it")
        .iLead().noConfig().runningPrimary().cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.LEADER_WITH_LOCK).duties(new LeaderDuty.WriteConfig()));
    rows.add(scenario("leader with lock, timeline differs from history: write history")
        .iLead().clusterTimeline(1).runningPrimary().timeline(2).cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.LEADER_WITH_LOCK).duties(new LeaderDuty.WriteHistory()));
    rows.add(scenario("leader with lock, history missing: write history")
        .iLead().clusterTimeline(0).runningPrimary().timeline(1).cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.LEADER_WITH_LOCK).duties(new LeaderDuty.WriteHistory()));
    rows.add(scenario("leader with lock, my timeline unknown: history left alone")
        .iLead().clusterTimeline(3).runningPrimary().timeline(0).cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.LEADER_WITH_LOCK));
    rows.add(scenario("leader with lock, everything missing: every duty, in order")
        .iLead().initialize(null).noConfig().clusterTimeline(0).runningPrimary().timeline(4)
        .expect(none(), Reason.LEADER_WITH_LOCK).duties(new LeaderDuty.WriteInitialize(SYSID),
            new LeaderDuty.WriteConfig(), new LeaderDuty.WriteHistory(), new LeaderDuty.SyncSlots()));
    rows.add(scenario("I own the key and run a replica: promote")
        .iLead().runningReplica()
        .expect(new Action.Promote(), Reason.PROMOTE_HAD_LOCK));
    // §3.6.2, §3.5 rule 1: pre_promote
    rows.add(scenario("pre_promote failed: I own the key and run a replica: release the key, no promotion")
        .iLead().runningReplica().local(b -> b.prePromoteFailed(true))
        .expect(new Action.ReleaseLeader(), Reason.PRE_PROMOTE_FAILED_RELEASE));
    rows.add(scenario("pre_promote failed in pause: the key is released all the same")
        .iLead().paused().runningReplica().local(b -> b.prePromoteFailed(true))
        .expect(new Action.ReleaseLeader(), Reason.PRE_PROMOTE_FAILED_RELEASE));
    rows.add(scenario("pre_promote failed flag but already a primary: stays leader")
        .iLead().runningPrimary().cfg("{\"postgresql\":{\"use_slots\":false}}").local(b -> b.prePromoteFailed(true))
        .expect(none(), Reason.LEADER_WITH_LOCK));
    rows.add(scenario("race: released the key after a failed pre_promote less than ttl ago: no race")
        .runningReplica().lsn(1000).peers().local(b -> b.prePromoteReleasedAtMs(NOW - 29_999))
        .expect(none(), Reason.PRE_PROMOTE_BACKOFF));
    rows.add(scenario("race: released the key after a failed pre_promote ttl ago: races again")
        .runningReplica().lsn(1000).peers().local(b -> b.prePromoteReleasedAtMs(NOW - 30_000))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: the named candidate of a switchover in pre_promote backoff does not race")
        .failover("pg2", ME).member(replica("pg2", 100)).runningReplica().lsn(1000)
        .local(b -> b.prePromoteReleasedAtMs(NOW - 1000))
        .expect(none(), Reason.PRE_PROMOTE_BACKOFF));
    rows.add(scenario("race: a shorter ttl ends the pre_promote backoff sooner")
        .runningReplica().lsn(1000).peers().cfg("{\"ttl\":20}").local(b -> b.prePromoteReleasedAtMs(NOW - 20_000))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("someone else leads and I run a primary: stop immediately")
        .ledBy("pg2").runningPrimary()
        .expect(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.DEMOTE_NOT_OWNER));

    // §3.7: follow
    rows.add(scenario("follow: no upstream yet, follow the leader")
        .ledBy("pg2").runningReplica().upstream(null)
        .expect(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM).message("changing primary_conninfo to follow pg2"));
    rows.add(scenario("follow: upstream is an old leader, follow the new one")
        .ledBy("pg2").member(replica("pg3", 100)).runningReplica().upstream("pg3")
        .expect(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("follow: already following the leader")
        .ledBy("pg2").runningReplica().upstream("pg2")
        .expect(none(), Reason.FOLLOWING).duties(new LeaderDuty.SyncSlots())
        .message("no action. I am (pg1), a secondary, and following a leader (pg2)"));
    rows.add(scenario("follow: without use_slots a replica keeps no slots")
        .ledBy("pg2").runningReplica().upstream("pg2").cfg("{\"postgresql\":{\"use_slots\":false}}")
        .expect(none(), Reason.FOLLOWING));
    rows.add(scenario("follow: replicatefrom an existing member")
        .ledBy("pg2").member(replica("pg3", 100)).replicatefrom("pg3").runningReplica().upstream("pg2")
        .expect(new Action.Follow("pg3"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("follow: replicatefrom an existing member, already there")
        .ledBy("pg2").member(replica("pg3", 100)).replicatefrom("pg3").runningReplica().upstream("pg3")
        .expect(none(), Reason.FOLLOWING).duties(new LeaderDuty.SyncSlots()));
    rows.add(scenario("follow: replicatefrom a member that does not exist falls back to the leader")
        .ledBy("pg2").replicatefrom("pg9").runningReplica().upstream(null)
        .expect(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("follow: replicatefrom myself falls back to the leader")
        .ledBy("pg2").member(replica(ME, 100)).replicatefrom(ME).runningReplica().upstream(null)
        .expect(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("follow: nostream drops the upstream")
        .ledBy("pg2").nostream().runningReplica().upstream("pg2")
        .expect(new Action.Follow(null), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("follow: nostream without upstream has nothing to do")
        .ledBy("pg2").nostream().runningReplica().upstream(null)
        .expect(none(), Reason.FOLLOWING).duties(new LeaderDuty.SyncSlots()));

    // §3.4, §3.5: the race (no leader key)
    rows.add(scenario("race: a running primary takes the free key")
        .member(replica("pg2", 2000)).runningPrimary().lsn(1000)
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: a running nofailover primary still takes the free key")
        .nofailover().runningPrimary()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: a primary behind the cluster timeline is stopped")
        .clusterTimeline(3).runningPrimary().timeline(2)
        .expect(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.TIMELINE_BEHIND)
        .message("not racing for leader: my timeline 2 is behind the cluster's 3"));
    rows.add(scenario("race: a primary with unknown timeline takes the key")
        .clusterTimeline(3).runningPrimary().timeline(0)
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: nofailover does not race")
        .member(replica("pg2", 100)).runningReplica().nofailover().peers()
        .expect(none(), Reason.NOFAILOVER));
    rows.add(scenario("race: failover_priority 0 does not race")
        .member(replica("pg2", 100)).runningReplica().failoverPriority(0).peers()
        .expect(none(), Reason.NOFAILOVER));
    rows.add(scenario("race: synchronous mode, not listed in sync, does not race")
        .member(replica("pg2", 100)).runningReplica().cfg("{\"synchronous_mode\": true}").sync("pg3", "pg2").peers()
        .expect(none(), Reason.NOT_SYNCHRONOUS));
    rows.add(scenario("race: synchronous mode, listed in sync, races with sync peers only")
        .member(replica("pg2", 900)).member(replica("pg3", 800)).runningReplica().lsn(500)
        .cfg("{\"synchronous_mode\": \"true\"}").sync("pg3", ME).peers(peer("pg2", 900), peer("pg3", 800))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: synchronous mode, another listed standby is ahead")
        .member(replica("pg2", 900)).runningReplica().lsn(500)
        .cfg("{\"synchronous_mode\": true}").sync("pg3", ME, "pg2").peers(peer("pg2", 900))
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: synchronous mode, manual failover may name an asynchronous member")
        .failover(null, ME).member(replica("pg2", 100)).runningReplica()
        .cfg("{\"synchronous_mode\": true}").sync("pg3", "pg2").peers()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: synchronous mode, a switchover may not name an asynchronous member")
        .failover("pg3", ME).member(replica("pg2", 100)).runningReplica()
        .cfg("{\"synchronous_mode\": true}").sync("pg3", "pg2").peers()
        .expect(none(), Reason.NOT_SYNCHRONOUS));
    rows.add(scenario("race: synchronous mode off, the sync key is ignored")
        .member(replica("pg2", 100)).runningReplica().sync("pg3", "pg2").peers()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: no probe yet, probe the peers")
        .member(replica("pg2", 100)).runningReplica()
        .expect(new Action.ProbePeers(), Reason.PROBE_PEERS));
    rows.add(scenario("race: the healthiest takes the key")
        .member(replica("pg2", 900)).member(replica("pg3", 800)).runningReplica().lsn(1000)
        .peers(peer("pg2", 900), peer("pg3", 800))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: alone and probed, take the key")
        .runningReplica().lsn(1000).peers()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: a peer ahead, not the healthiest")
        .member(replica("pg2", 1001)).runningReplica().lsn(1000).peers(peer("pg2", 1001))
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: a peer's primary is still alive, not the healthiest")
        .member(primary("pg2")).runningReplica().lsn(1000).peers(primaryPeer("pg2", 10))
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: equal LSN and a peer with higher failover_priority, not the healthiest")
        .member(replica("pg2", 1000)).runningReplica().lsn(1000).failoverPriority(1)
        .peers(peer("pg2", 1000).priority(2).build())
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: equal LSN and equal failover_priority, both may race")
        .member(replica("pg2", 1000)).runningReplica().lsn(1000).peers(peer("pg2", 1000))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: equal LSN and a peer with lower failover_priority, take the key")
        .member(replica("pg2", 1000)).runningReplica().lsn(1000).failoverPriority(3)
        .peers(peer("pg2", 1000).priority(2).build())
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: an unreachable peer is ignored")
        .member(replica("pg2", 5000)).runningReplica().lsn(1000)
        .peers(new PeerStatus("pg2", false, false, 5000, 1, false, 1))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: an unreachable primary is ignored")
        .member(primary("pg2")).runningReplica().lsn(1000).peers(PeerStatus.unreachable("pg2"))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: a nofailover peer ahead is ignored")
        .member(replica("pg2", 5000).nofailover()).runningReplica().lsn(1000)
        .peers(peer("pg2", 5000).nofailover().build())
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: my own probe answer is ignored")
        .runningReplica().lsn(1000).peers(primaryPeer(ME, 5000))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: lag beyond maximum_lag_on_failover vs optime, not the healthiest")
        .optime(1000 + 1_048_576 + 1).runningReplica().lsn(1000).peers()
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: lag exactly maximum_lag_on_failover, take the key")
        .optime(1000 + 1_048_576).runningReplica().lsn(1000).peers()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: lag beyond a configured maximum_lag_on_failover")
        .optime(1101).runningReplica().lsn(1000).cfg("{\"maximum_lag_on_failover\":100}").peers()
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: check_timeline and my timeline behind the cluster's, not the healthiest")
        .clusterTimeline(3).member(replica("pg2", 100).timeline(2)).runningReplica().timeline(2)
        .cfg("{\"check_timeline\":true}").peers()
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: check_timeline and my timeline unknown, not the healthiest")
        .clusterTimeline(3).runningReplica().timeline(0).cfg("{\"check_timeline\":true}").peers()
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: no check_timeline and my timeline unknown, take the key")
        .clusterTimeline(3).runningReplica().timeline(0).peers()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: behind the cluster timeline while a member with unknown timeline may be on it")
        .clusterTimeline(3).member(replica("pg2", 100).timeline(null)).runningReplica().timeline(2).peers()
        .expect(none(), Reason.TIMELINE_BEHIND).message("not racing for leader: my timeline 2 is behind the cluster's 3"));
    rows.add(scenario("race: behind the cluster timeline while a member is on it")
        .clusterTimeline(3).member(replica("pg2", 100).timeline(3)).runningReplica().timeline(2).peers()
        .expect(none(), Reason.TIMELINE_BEHIND));
    rows.add(scenario("race: behind, but no member can be on the cluster timeline: may probe")
        .clusterTimeline(3).member(replica("pg2", 100).timeline(2)).runningReplica().timeline(2)
        .expect(new Action.ProbePeers(), Reason.PROBE_PEERS));
    rows.add(scenario("race: behind, but no member can be on the cluster timeline: may win")
        .clusterTimeline(3).member(replica("pg2", 100).timeline(2)).runningReplica().timeline(2).lsn(1000)
        .peers(peer("pg2", 100))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: my own member record on the new timeline does not hold me back")
        .clusterTimeline(3).member(replica(ME, 100).timeline(3)).runningReplica().timeline(2).peers()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: manual failover to me wins regardless of lag and peers")
        .failover(null, ME).optime(50_000_000).member(replica("pg2", 9_000_000)).runningReplica().lsn(1000)
        .peers(peer("pg2", 9_000_000))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: switchover to me, behind the cluster timeline, still races")
        .failover("pg2", ME).clusterTimeline(3).member(replica("pg3", 100).timeline(3)).runningReplica().timeline(2)
        .peers()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: manual failover to a healthy pg2, not the healthiest")
        .failover(null, "pg2").member(replica("pg2", 10)).runningReplica().lsn(1000).peers(peer("pg2", 10))
        .expect(none(), Reason.NOT_HEALTHIEST));
    rows.add(scenario("race: manual failover to an unreachable pg2, compare without lag check")
        .failover(null, "pg2").optime(50_000_000).member(replica("pg2", 10)).runningReplica().lsn(1000)
        .peers(PeerStatus.unreachable("pg2"))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("race: switchover without candidate, peer ahead, not the healthiest")
        .failover("pg3", null).member(replica("pg2", 2000)).runningReplica().lsn(1000).peers(peer("pg2", 2000))
        .expect(none(), Reason.NOT_HEALTHIEST));

    rows.add(scenario("race: manual failover to me needs no probe of the peers")
        .failover(null, ME).member(replica("pg2", 100)).runningReplica()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));

    // §3.8: the leader's side of a switchover or manual failover
    rows.add(scenario("switchover: the leader probes the candidates first")
        .iLead().runningPrimary().failover(ME, "pg2").member(replica("pg2", 1000))
        .expect(new Action.ProbePeers(), Reason.SWITCHOVER_PROBE));
    rows.add(scenario("switchover: a healthy named candidate makes the leader step down")
        .iLead().runningPrimary().failover(ME, "pg2").member(replica("pg2", 1000)).peers(peer("pg2", 1000))
        .expect(new Action.DemoteGraceful("pg2"), Reason.SWITCHOVER_DEMOTE));
    rows.add(scenario("switchover: without a candidate, any healthy replica will do")
        .iLead().runningPrimary().failover(ME, null).member(replica("pg2", 1000)).peers(peer("pg2", 990))
        .expect(new Action.DemoteGraceful(null), Reason.SWITCHOVER_DEMOTE));
    rows.add(scenario("switchover: manual failover (no leader named) to a healthy pg2")
        .iLead().runningPrimary().failover(null, "pg2").member(replica("pg2", 1000)).peers(peer("pg2", 1000))
        .expect(new Action.DemoteGraceful("pg2"), Reason.SWITCHOVER_DEMOTE));
    rows.add(scenario("switchover: an unreachable candidate clears the request")
        .iLead().runningPrimary().failover(ME, "pg2").member(replica("pg2", 1000))
        .peers(PeerStatus.unreachable("pg2"))
        .expect(new Action.ClearFailover("no candidate"), Reason.SWITCHOVER_NO_CANDIDATE));
    rows.add(scenario("switchover: a candidate lagging beyond maximum_lag_on_failover clears the request")
        .iLead().runningPrimary().lsn(5_000_000).optime(5_000_000).failover(ME, "pg2")
        .member(replica("pg2", 100)).peers(peer("pg2", 100))
        .expect(new Action.ClearFailover("no candidate"), Reason.SWITCHOVER_NO_CANDIDATE));
    rows.add(scenario("switchover: a nofailover candidate clears the request")
        .iLead().runningPrimary().failover(ME, "pg2").member(replica("pg2", 1000))
        .peers(peer("pg2", 1000).nofailover())
        .expect(new Action.ClearFailover("no candidate"), Reason.SWITCHOVER_NO_CANDIDATE));
    rows.add(scenario("switchover: a request from another leader is not for me")
        .iLead().runningPrimary().failover("pg3", "pg2").member(replica("pg2", 1000))
        .expect(new Action.ClearFailover("not for me"), Reason.SWITCHOVER_NOT_FOR_ME));
    rows.add(scenario("switchover: scheduled in an hour, the leader waits")
        .iLead().runningPrimary().scheduledFailover(ME, "pg2", NOW_EPOCH_MS + 3_600_000).member(replica("pg2", 1000))
        .local(b -> b.wallClockMs(NOW_EPOCH_MS))
        .expect(none(), Reason.SWITCHOVER_AWAIT));
    rows.add(scenario("switchover: scheduled an hour ago, the request is stale")
        .iLead().runningPrimary().scheduledFailover(ME, "pg2", NOW_EPOCH_MS - 3_600_000).member(replica("pg2", 1000))
        .local(b -> b.wallClockMs(NOW_EPOCH_MS))
        .expect(new Action.ClearFailover("stale"), Reason.SWITCHOVER_STALE));
    rows.add(scenario("switchover: scheduled a second ago, it is carried out")
        .iLead().runningPrimary().scheduledFailover(ME, "pg2", NOW_EPOCH_MS - 1000).member(replica("pg2", 1000))
        .local(b -> b.wallClockMs(NOW_EPOCH_MS)).peers(peer("pg2", 1000))
        .expect(new Action.DemoteGraceful("pg2"), Reason.SWITCHOVER_DEMOTE));

    // §3.16: paused
    rows.add(scenario("paused: the owner whose postgres runs as a replica releases the key")
        .iLead().runningReplica().paused()
        .expect(new Action.ReleaseLeader(), Reason.PG_NOT_RUNNING_RELEASE));
    rows.add(scenario("paused: a running primary takes a free key")
        .runningPrimary().paused()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("paused: a running replica never races")
        .member(replica("pg2", 100)).runningReplica().paused().peers()
        .expect(none(), Reason.PAUSED));
    rows.add(scenario("paused: a primary without the key is not demoted")
        .ledBy("pg2").runningPrimary().paused()
        .expect(none(), Reason.PAUSED));
    rows.add(scenario("paused: the owner with a running primary keeps it, and its keys and slots current")
        .iLead().runningPrimary().paused().clusterTimeline(1).timeline(2)
        .expect(none(), Reason.PAUSED).duties(new LeaderDuty.WriteHistory(), new LeaderDuty.SyncSlots()));
    rows.add(scenario("paused: a replica re-points at a new leader (§3.7: a reload, nothing started or stopped)")
        .ledBy("pg2").runningReplica().upstream(null).paused()
        .expect(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("paused: a replica following the leader is left alone")
        .ledBy("pg2").runningReplica().upstream("pg2").paused()
        .expect(none(), Reason.PAUSED));
    rows.add(scenario("paused: the owner steps down for an immediate switchover to a named member")
        .iLead().member(replica("pg2", 1000)).runningPrimary().paused().failover(ME, "pg2")
        .local(b -> b.wallClockMs(NOW_EPOCH_MS)).peers(peer("pg2", 1000))
        .expect(new Action.DemoteGraceful("pg2"), Reason.SWITCHOVER_DEMOTE));
    rows.add(scenario("paused: a switchover request without a candidate is cleared")
        .iLead().member(replica("pg2", 1000)).runningPrimary().paused().failover(ME, null)
        .expect(new Action.ClearFailover("paused"), Reason.SWITCHOVER_PAUSED_INVALID));
    rows.add(scenario("paused: a scheduled switchover request is cleared")
        .iLead().member(replica("pg2", 1000)).runningPrimary().paused()
        .scheduledFailover(ME, "pg2", NOW_EPOCH_MS + 60_000)
        .expect(new Action.ClearFailover("paused"), Reason.SWITCHOVER_PAUSED_INVALID));
    rows.add(scenario("paused: the named candidate takes the free key")
        .member(replica("pg2", 100)).runningReplica().paused().failover("pg2", ME)
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("paused: a nofailover candidate does not take the key")
        .member(replica("pg2", 100)).runningReplica().paused().failover("pg2", ME).nofailover()
        .expect(none(), Reason.PAUSED));
    rows.add(scenario("paused: the named candidate holding the key promotes")
        .iLead().runningReplica().paused().failover("pg2", ME)
        .expect(new Action.Promote(), Reason.PROMOTE_PAUSED_SWITCHOVER));
    rows.add(scenario("paused: once promoted, the candidate clears the request")
        .iLead().runningPrimary().paused().failover("pg2", ME)
        .expect(new Action.ClearFailover("not for me"), Reason.SWITCHOVER_NOT_FOR_ME));

    // §10.2 failsafe mode (the timing argument: Failsafe's comment, HaCoreSafetyTest.failsafeCoverEndsBeforeAnyLease)
    rows.add(scenario("failsafe: dcs lost, every listed member accepted the last round: the primary keeps running")
        .dcsLost().runningPrimary().failsafeMode().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 60_000)
        .local(b -> b.failsafeUntilMs(LOCK_CONFIRMED + 60_000 + 8_000))
        .expect(none(), Reason.FAILSAFE_KEEP_PRIMARY)
        .message("continue to run as a leader because failsafe mode is enabled and all members are accessible"));
    rows.add(scenario("failsafe: the last round was partial: demoted as without failsafe, by the earlier cover")
        .dcsLost().runningPrimary().failsafeMode().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 60_000)
        .local(b -> b.failsafeUntilMs(LOCK_CONFIRMED + 60_000 + 8_000).failsafeRoundFailed(true))
        .expect(new Action.Stop(StopMode.FAST, false, 7_000), Reason.DCS_UNREACHABLE_DEMOTE)
        .message("demoted self because DCS is not accessible and I was a leader"));
    rows.add(scenario("failsafe: a cover that ends within the fence margin does not keep the primary")
        .dcsLost().runningPrimary().failsafeMode().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 60_000)
        .local(b -> b.failsafeUntilMs(LOCK_CONFIRMED + 60_000 + 1_000))
        .expect(new Action.Stop(StopMode.FAST, false, 1), Reason.DCS_UNREACHABLE_DEMOTE));
    rows.add(scenario("failsafe: no round yet, within the grace: as without failsafe")
        .dcsLost().runningPrimary().failsafeMode().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 9_999)
        .expect(none(), Reason.DCS_UNREACHABLE));
    rows.add(scenario("failsafe: a cover with failsafe_mode off keeps nobody")
        .dcsLost().runningPrimary().lockConfirmedAt(LOCK_CONFIRMED).at(LOCK_CONFIRMED + 60_000)
        .local(b -> b.failsafeUntilMs(LOCK_CONFIRMED + 60_000 + 8_000))
        .expect(new Action.Stop(StopMode.FAST, false, 7_000), Reason.DCS_UNREACHABLE_DEMOTE));
    rows.add(scenario("failsafe: the failsafe key lists other members only: no race")
        .runningReplica().lsn(1000).peers().failsafeMode().failsafe("pg2", "pg3")
        .expect(none(), Reason.FAILSAFE_NOT_LISTED));
    rows.add(scenario("failsafe: the key lists others, failsafe_mode off: still no race")
        .runningReplica().lsn(1000).peers().failsafe("pg2", "pg3")
        .expect(none(), Reason.FAILSAFE_NOT_LISTED));
    rows.add(scenario("failsafe: the failsafe key lists me: race")
        .runningReplica().lsn(1000).peers().failsafeMode().failsafe(ME, "pg2")
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("failsafe: an empty failsafe key restricts nobody")
        .runningReplica().lsn(1000).peers().failsafeMode().failsafe()
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("failsafe: inside a lease and no leader key: the sender is followed, no race")
        .runningReplica().lsn(1000).peers().failsafeMode().failsafe(ME, "pg2")
        .local(b -> b.failsafeLease(new Failsafe.Lease("pg2", "postgres://10.0.0.2:5432/postgres",
            "http://pg2:8008/patroni", NOW - 29_999)))
        .expect(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("failsafe: inside a lease, already following the sender")
        .runningReplica().upstream("pg2").lsn(1000).peers().failsafe(ME, "pg2")
        .local(b -> b.failsafeLease(new Failsafe.Lease("pg2", "postgres://10.0.0.2:5432/postgres",
            "http://pg2:8008/patroni", NOW - 1)))
        .expect(none(), Reason.FOLLOWING).duties(new LeaderDuty.SyncSlots()));
    rows.add(scenario("failsafe: a lease ttl old has ended: race")
        .runningReplica().lsn(1000).peers().failsafeMode().failsafe(ME, "pg2")
        .local(b -> b.failsafeLease(new Failsafe.Lease("pg2", "postgres://10.0.0.2:5432/postgres",
            "http://pg2:8008/patroni", NOW - 30_000)))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));
    rows.add(scenario("failsafe: the leader writes the failsafe key when it changes")
        .iLead().runningPrimary().failsafeMode().cfg("{\"failsafe_mode\":true,\"postgresql\":{\"use_slots\":false}}")
        .member(primary(ME)).member(replica("pg2", 100)).failsafe(ME)
        .expect(none(), Reason.LEADER_WITH_LOCK)
        .duties(new LeaderDuty.WriteFailsafe(Map.of(ME, "http://pg1:8008/patroni", "pg2", "http://pg2:8008/patroni"))));
    rows.add(scenario("failsafe: an unchanged failsafe key is not written again")
        .iLead().runningPrimary().cfg("{\"failsafe_mode\":true,\"postgresql\":{\"use_slots\":false}}")
        .member(primary(ME)).member(replica("pg2", 100)).failsafe(ME, "pg2")
        .expect(none(), Reason.LEADER_WITH_LOCK));
    rows.add(scenario("failsafe: with failsafe_mode off the leader empties a stale key")
        .iLead().runningPrimary().cfg("{\"postgresql\":{\"use_slots\":false}}")
        .member(primary(ME)).member(replica("pg2", 100)).failsafe(ME, "pg2")
        .expect(none(), Reason.LEADER_WITH_LOCK)
        .duties(new LeaderDuty.WriteFailsafe(Map.of())));

    // §10.3: a standby cluster: the key holder is a standby leader following the remote primary; nobody promotes
    String sc = "{\"standby_cluster\":{\"host\":\"10.9.9.9\",\"port\":6432},\"postgresql\":{\"use_slots\":false}}";
    String remote = "remote member 10.9.9.9:6432";
    rows.add(scenario("standby cluster: the initialize winner clones the remote primary")
        .initializing().emptyDataDir().local(b -> b.wonInitializeRace(true)).cfg(sc)
        .expect(new Action.BootstrapStandbyLeader(remote), Reason.STANDBY_BOOTSTRAP));
    rows.add(scenario("standby cluster with restore_command only: no host to clone, no bootstrap race")
        .initialize(null).emptyDataDir().cfg("{\"standby_cluster\":{\"restore_command\":\"cp /a/%f %p\"}}")
        .expect(none(), Reason.BOOTSTRAP_WAIT_OTHER));
    rows.add(scenario("standby cluster: the clone runs as a standby: publish the cluster and take the key")
        .initializing().runningReplica().local(b -> b.wonInitializeRace(true)).upstream(remote).cfg(sc)
        .expect(new Action.FinishBootstrap(SYSID), Reason.BOOTSTRAP_FINISH));
    rows.add(scenario("standby cluster: the key holder follows the remote primary")
        .iLead().runningReplica().upstream(remote).cfg(sc)
        .expect(none(), Reason.STANDBY_LEADER_WITH_LOCK)
        .message("no action. I am (pg1), the standby leader with the lock"));
    rows.add(scenario("standby cluster: a new key holder re-points at the remote primary, no promotion")
        .iLead().runningReplica().upstream("pg2").cfg(sc)
        .expect(new Action.Follow(remote), Reason.STANDBY_LEADER_FOLLOW_REMOTE));
    rows.add(scenario("standby cluster: a switchover to pg2: the standby leader stops and releases the key")
        .iLead().runningReplica().upstream(remote).cfg(sc).member(replica("pg2", 1000)).failover(ME, "pg2")
        .peers(peer("pg2", 1000))
        .expect(new Action.Stop(StopMode.FAST, true, 0), Reason.STANDBY_SWITCHOVER)
        .message("switchover: the standby leader stops and gives the key to pg2"));
    rows.add(scenario("standby cluster: a switchover request is probed first")
        .iLead().runningReplica().upstream(remote).cfg(sc).member(replica("pg2", 1000)).failover(ME, "pg2")
        .expect(new Action.ProbePeers(), Reason.SWITCHOVER_PROBE));
    rows.add(scenario("standby cluster: a changed standby_cluster.port re-points the standby leader")
        .iLead().runningReplica().upstream("remote member 10.9.9.9:5432").cfg(sc)
        .expect(new Action.Follow(remote), Reason.STANDBY_LEADER_FOLLOW_REMOTE));
    rows.add(scenario("standby cluster: the key holder's history is not written (the remote's timeline)")
        .iLead().clusterTimeline(1).runningReplica().timeline(2).upstream(remote).cfg(sc)
        .expect(none(), Reason.STANDBY_LEADER_WITH_LOCK).duties());
    rows.add(scenario("standby cluster: a primary holding the key (demote-cluster) stops fast, keeping the key")
        .iLead().runningPrimary().cfg(sc)
        .expect(new Action.Stop(StopMode.FAST, false, 0), Reason.DEMOTE_CLUSTER));
    rows.add(scenario("standby cluster: the key holder with postgres down starts as standby leader")
        .iLead().stopped(DataDirState.REPLICA).local(b -> b.cleanShutdown(true)).cfg(sc)
        .expect(new Action.StartReplica(remote), Reason.STANDBY_LEADER_START));
    rows.add(scenario("demote-cluster: the stopped former primary rewinds from the remote primary")
        .iLead().stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true)).cfg(sc)
        .expect(new Action.Rewind(remote, false), Reason.REWIND));
    rows.add(scenario("demote-cluster without use_pg_rewind: a dry run says whether it can follow")
        .iLead().stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true)).cfg(sc).noPgRewind()
        .expect(new Action.Rewind(remote, true), Reason.REWIND_CHECK));
    rows.add(scenario("demote-cluster: a crashed former primary first runs crash recovery")
        .iLead().stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(false)).cfg(sc)
        .expect(new Action.CrashRecovery(), Reason.CRASH_RECOVERY));
    rows.add(scenario("demote-cluster: after a failed pg_rewind from the remote nothing is started")
        .iLead().stopped(DataDirState.PRIMARY).local(b -> b.cleanShutdown(true).rewindFailed(true)).cfg(sc)
        .expect(none(), Reason.DEMOTE_CLUSTER_REWIND_FAILED));
    rows.add(scenario("standby cluster: no key: a stopped member follows the remote primary")
        .stopped(DataDirState.REPLICA).member(replica("pg2", 100)).cfg(sc)
        .expect(new Action.StartReplica(remote), Reason.STANDBY_FOLLOW_REMOTE));
    rows.add(scenario("standby cluster: a replica cascades from the standby leader")
        .leader("pg2").member(replica("pg2", 1000).role("standby_leader")).runningReplica().upstream("pg2").cfg(sc)
        .expect(none(), Reason.STANDBY_FOLLOWING)
        .message("no action. I am (pg1), a secondary, and following a standby leader (pg2)"));
    rows.add(scenario("standby cluster: a replica of the old standby leader re-points at the new one")
        .leader("pg3").member(replica("pg3", 1000)).runningReplica().upstream("pg2").cfg(sc)
        .expect(new Action.Follow("pg3"), Reason.CHANGE_UPSTREAM));
    rows.add(scenario("standby cluster: a primary without the key is stopped")
        .leader("pg2").member(replica("pg2", 1000)).runningPrimary().cfg(sc)
        .expect(new Action.Stop(StopMode.IMMEDIATE, false, 0), Reason.STANDBY_NO_PRIMARY));
    rows.add(scenario("standby cluster, paused: the standby leader keeps its key")
        .iLead().runningReplica().upstream(remote).cfg(sc).paused()
        .expect(none(), Reason.PAUSED));
    rows.add(scenario("standby cluster removed (promote-cluster): the key holder promotes")
        .iLead().runningReplica().upstream(remote)
        .expect(new Action.Promote(), Reason.PROMOTE_HAD_LOCK));
    rows.add(scenario("standby cluster: the race ignores check_timeline (the remote's timelines)")
        .clusterTimeline(3).runningReplica().timeline(2).upstream("pg2").member(replica("pg2", 900))
        .cfg("{\"check_timeline\":true,\"standby_cluster\":{\"host\":\"10.9.9.9\"}}")
        .peers(peer("pg2", 900))
        .expect(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK));

    return rows.stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("table")
  void decides(Scenario s) {
    Decision d = s.decide();

    assertThat(d.reason()).as("reason").isEqualTo(s.expectedReason);
    assertThat(d.action()).as("action").isEqualTo(s.expectedAction);
    assertThat(d.duties()).as("duties").containsExactlyElementsOf(s.expectedDuties);
    assertThat(d.message()).as("message").isNotBlank().doesNotContain("%s", "%d");
    if (s.expectedMessage != null) assertThat(d.message()).as("message").isEqualTo(s.expectedMessage);
  }

  @Test
  void tableNamesAreUnique() {
    List<String> names = table().map(s -> s.name).collect(Collectors.toList());
    assertThat(names).doesNotHaveDuplicates();
  }

  /** Every reason HaCore can return appears in the table; the rest of the enum is listed above, explicitly. */
  @Test
  void tableCoversEveryReasonHaCoreCanReturn() throws IOException {
    Set<Reason> produced = table().map(s -> s.decide().reason()).collect(Collectors.toCollection(
        () -> EnumSet.noneOf(Reason.class)));
    Set<Reason> expected = EnumSet.complementOf(EnumSet.copyOf(NOT_PRODUCED_BY_HACORE));

    assertThat(produced).containsExactlyInAnyOrderElementsOf(expected);
    // and the explicit list is right: HaCore's source names exactly the reasons the table produces
    assertThat(reasonsNamedInHaCoreSource()).containsExactlyInAnyOrderElementsOf(produced);
  }

  private static Set<Reason> reasonsNamedInHaCoreSource() throws IOException {
    Path source = Path.of("src/main/java/io/pgha/decision/HaCore.java");
    String text = Files.readString(source, StandardCharsets.UTF_8);
    Matcher m = Pattern.compile("Reason\\.([A-Z_]+)").matcher(text);
    Set<Reason> named = EnumSet.noneOf(Reason.class);
    while (m.find()) named.add(Reason.valueOf(m.group(1)));
    return named;
  }

  @Test
  void decideDoesNotModifyItsInputs() {
    Scenario s = scenario("inputs").member(replica("pg2", 900)).runningReplica().peers(peer("pg2", 900));
    ClusterView view = s.view();
    LocalState local = s.local.build();
    ClusterView viewCopy = new ClusterView(view.leader(), view.leaderIsMe(), Map.copyOf(view.members()),
        view.initialize(), view.config(), view.failover(), view.clusterTimeline(), view.optime());
    LocalState localCopy = local.toBuilder().peers(new LinkedHashMap<>(local.peers())).build();

    HaCore.decide(view, local, s.cfg(), s.me(), NOW);

    assertThat(view).isEqualTo(viewCopy);
    assertThat(local).isEqualTo(localCopy);
  }

  @Test
  void sameInputsGiveTheSameDecision() {
    table().forEach(s -> assertThat(s.decide()).as(s.name).isEqualTo(s.decide()));
  }

  /**
   * Rows that show deviations from patroni-compat; disabled so that the suite stays green. Each names the rule it
   * breaks; see the report.
   */
  @Nested
  class KnownBugs {

    @Test
    void pausedOwnerWithPostgresDownReleasesTheKey() {
      Scenario s = scenario("paused owner, postgres down")
          .iLead().member(replica("pg2", 100)).stopped(DataDirState.PRIMARY).paused()
          .expect(new Action.ReleaseLeader(), Reason.PG_NOT_RUNNING_RELEASE);
      assertDecides(s);
    }

    @Test
    void ownerWithReplicaDataWhoseStartFailedReleasesTheKey() {
      Scenario s = scenario("owner, replica data dir, start failed, eligible peer")
          .iLead().member(replica("pg2", 100)).stopped(DataDirState.REPLICA).local(b -> b.startAttemptFailed(true))
          .expect(new Action.ReleaseLeader(), Reason.START_FAILED_RELEASE);
      assertDecides(s);
    }

    @Test
    void pausedPrimaryWithTaskIsNotDemoted() {
      Scenario s = scenario("paused primary restarting while pg2 leads")
          .ledBy("pg2").runningPrimary().task(Task.RESTART).paused()
          .expect(none(), Reason.TASK_IN_PROGRESS);
      assertDecides(s);
    }

    @Test
    void nofailoverCandidateDoesNotRace() {
      Scenario s = scenario("manual failover to a nofailover me")
          .failover(null, ME).member(replica("pg2", 100)).runningReplica().nofailover().peers()
          .expect(none(), Reason.NOFAILOVER);
      assertDecides(s);
    }

    @Test
    void pausedRunningReplicaWithoutInitializeIsNotFatal() {
      Scenario s = scenario("paused running replica, no initialize, no leader")
          .initialize(null).runningReplica().paused()
          .expect(none(), Reason.PAUSED);
      assertDecides(s);
    }
  }

  static void assertDecides(Scenario s) {
    Decision d = s.decide();
    assertThat(d.reason()).as("reason").isEqualTo(s.expectedReason);
    assertThat(d.action()).as("action").isEqualTo(s.expectedAction);
  }

  // ---------------------------------------------------------------------------------------------------------------
  // Fixtures: rows read like sentences
  // ---------------------------------------------------------------------------------------------------------------

  static Action none() {
    return new Action.None();
  }

  static Scenario scenario(String name) {
    return new Scenario(name);
  }

  static MemberFixture primary(String name) {
    return new MemberFixture(name).state("running").role("primary").xlog(1000L).timeline(1);
  }

  static MemberFixture replica(String name, long xlog) {
    return new MemberFixture(name).state("running").role("replica").xlog(xlog).timeline(1);
  }

  static PeerFixture peer(String name, long lsn) {
    return new PeerFixture(name, lsn);
  }

  static PeerStatus primaryPeer(String name, long lsn) {
    return new PeerStatus(name, true, true, lsn, 1, false, 1);
  }

  static final class MemberFixture {
    private final String name;
    private String connUrl;
    private String state;
    private String role;
    private Long xlog;
    private Integer timeline;
    private boolean nofailover;
    private Integer priority;
    private boolean clonefrom;
    private boolean checkpointAfterPromotePending;

    MemberFixture(String name) {
      this.name = name;
      this.connUrl = "postgres://10.0.0." + Math.abs(name.hashCode() % 200) + ":5432/postgres";
    }

    MemberFixture state(String v) { state = v; return this; }
    MemberFixture role(String v) { role = v; return this; }
    MemberFixture xlog(Long v) { xlog = v; return this; }
    MemberFixture timeline(Integer v) { timeline = v; return this; }
    MemberFixture nofailover() { nofailover = true; return this; }
    MemberFixture priority(int v) { priority = v; return this; }
    MemberFixture clonefrom() { clonefrom = true; return this; }
    MemberFixture connUrl(String v) { connUrl = v; return this; }
    /** Published {@code checkpoint_after_promote: false}: promoted, CHECKPOINT not done yet. */
    MemberFixture checkpointPending() { checkpointAfterPromotePending = true; return this; }

    MemberRecord build() {
      return new MemberRecord(name, connUrl, "http://" + name + ":8008/patroni", state, role, xlog, timeline,
          nofailover, priority, clonefrom, false, null, checkpointAfterPromotePending);
    }
  }

  static final class PeerFixture {
    private final String name;
    private final long lsn;
    private boolean nofailover;
    private int priority = 1;

    PeerFixture(String name, long lsn) {
      this.name = name;
      this.lsn = lsn;
    }

    PeerFixture nofailover() { nofailover = true; return this; }
    PeerFixture priority(int v) { priority = v; return this; }

    PeerStatus build() {
      return new PeerStatus(name, true, false, lsn, 1, nofailover, priority);
    }
  }

  /** One row: the inputs of decide and what it must return. toString is the row's name. */
  static final class Scenario {
    private static final ObjectMapper JSON = new ObjectMapper();

    final String name;
    // view
    private boolean dcsLost;
    private String leader;
    private boolean leaderIsMe;
    private final Map<String, MemberRecord> members = new TreeMap<>();
    private String initialize = SYSID;
    private boolean configPresent = true;
    private FailoverRequest failover;
    private int clusterTimeline = 1;
    private long optime;
    private SyncState sync = SyncState.EMPTY;
    // local
    final LocalState.Builder local = LocalState.builder(ME).sysid(SYSID).timeline(1);
    // cfg
    private final ObjectNode cfg = JSON.createObjectNode();
    private Map<String, String> failsafe;
    // me
    private boolean nofailover;
    private int failoverPriority = 1;
    private boolean nostream;
    private String replicatefrom;
    private boolean hasBootstrapSection = true;
    private boolean usePgRewind = true;
    private boolean removeOnRewindFailure;
    private boolean removeOnDiverged;
    private long now = NOW;
    // expectations
    Action expectedAction;
    Reason expectedReason;
    List<LeaderDuty> expectedDuties = List.of();
    String expectedMessage;

    Scenario(String name) {
      this.name = name;
    }

    // --- the cluster as ZooKeeper shows it
    Scenario dcsLost() { dcsLost = true; return this; }
    Scenario failsafeMode() { cfg.put("failsafe_mode", true); return this; }
    /** The {@code failsafe} key listing these members (api_url as the fixtures make it). */
    Scenario failsafe(String... names) {
      failsafe = new java.util.TreeMap<>();
      for (String n : names) failsafe.put(n, "http://" + n + ":8008/patroni");
      return this;
    }
    Scenario leader(String v) { leader = v; leaderIsMe = false; return this; }
    /** pg2 holds the key and runs a primary. */
    Scenario ledBy(String v) { leader(v); return member(primary(v)); }
    Scenario iLead() { leader = ME; leaderIsMe = true; return this; }
    /** The key names me but belongs to an earlier ZooKeeper session of mine. */
    Scenario staleOwnKey() { leader = ME; leaderIsMe = false; return this; }
    Scenario member(MemberFixture m) { MemberRecord r = m.build(); members.put(r.name(), r); return this; }
    Scenario initialize(String v) { initialize = v; return this; }
    Scenario initializing() { initialize = ""; return this; }
    Scenario noConfig() { configPresent = false; return this; }
    Scenario failover(String leaderName, String candidate) {
      failover = new FailoverRequest(leaderName, candidate, null);
      return this;
    }
    Scenario scheduledFailover(String leaderName, String candidate, long atEpochMs) {
      failover = new FailoverRequest(leaderName, candidate, atEpochMs);
      return this;
    }
    Scenario clusterTimeline(int v) { clusterTimeline = v; return this; }
    Scenario optime(long v) { optime = v; return this; }
    Scenario sync(String syncLeader, String... standbys) {
      sync = new SyncState(syncLeader, Set.of(standbys), 3);
      return this;
    }

    // --- this member
    Scenario local(UnaryOperator<LocalState.Builder> change) { change.apply(local); return this; }
    Scenario runningReplica() {
      local.pg(PgRunState.RUNNING).inRecovery(true).dataDir(DataDirState.REPLICA).lsn(1000);
      return this;
    }
    Scenario runningPrimary() {
      local.pg(PgRunState.RUNNING).inRecovery(false).dataDir(DataDirState.PRIMARY).lsn(1000)
          .lockConfirmedAtMs(NOW - 1000);
      return this;
    }
    Scenario stopped(DataDirState data) {
      local.pg(PgRunState.STOPPED).inRecovery(null).dataDir(data);
      return this;
    }
    Scenario emptyDataDir() { local.sysid(null); return stopped(DataDirState.EMPTY); }
    Scenario upstream(String v) { local.upstream(v); return this; }
    Scenario sysid(String v) { local.sysid(v); return this; }
    Scenario lsn(long v) { local.lsn(v); return this; }
    Scenario timeline(int v) { local.timeline(v); return this; }
    Scenario task(Task v) { local.task(v); return this; }
    Scenario lockConfirmedAt(long v) { local.lockConfirmedAtMs(v); return this; }
    /** The race probe answered: each a {@link PeerStatus} or a {@link PeerFixture}; none = probed, nobody answered. */
    Scenario peers(Object... v) {
      Map<String, PeerStatus> map = new LinkedHashMap<>();
      for (Object o : v) {
        PeerStatus p = o instanceof PeerFixture ? ((PeerFixture) o).build() : (PeerStatus) o;
        map.put(p.name(), p);
      }
      local.peers(map);
      return this;
    }

    // --- settings
    Scenario cfg(String json) {
      try {
        cfg.setAll((ObjectNode) JSON.readTree(json));
      } catch (IOException e) {
        throw new IllegalArgumentException(json, e);
      }
      return this;
    }
    Scenario paused() { cfg.put("pause", true); return this; }
    Scenario nofailover() { nofailover = true; return this; }
    Scenario failoverPriority(int v) { failoverPriority = v; return this; }
    Scenario nostream() { nostream = true; return this; }
    Scenario replicatefrom(String v) { replicatefrom = v; return this; }
    Scenario noBootstrapSection() { hasBootstrapSection = false; return this; }
    Scenario noPgRewind() { usePgRewind = false; return this; }
    Scenario removeOnRewindFailure() { removeOnRewindFailure = true; return this; }
    Scenario removeOnDiverged() { removeOnDiverged = true; return this; }
    Scenario at(long v) { now = v; return this; }

    // --- expectations
    Scenario expect(Action action, Reason reason) {
      expectedAction = action;
      expectedReason = reason;
      return this;
    }
    Scenario duties(LeaderDuty... v) { expectedDuties = List.of(v); return this; }
    Scenario message(String v) { expectedMessage = v; return this; }

    DynamicConfig cfg() {
      return DynamicConfigJson.parse(cfg);
    }

    NodeSettings me() {
      return new NodeSettings(ME, nofailover, failoverPriority, false, nostream, replicatefrom,
          hasBootstrapSection, usePgRewind, removeOnRewindFailure, removeOnDiverged);
    }

    ClusterView view() {
      if (dcsLost) return null;
      return new ClusterView(leader, leaderIsMe, Map.copyOf(members), initialize, configPresent ? cfg() : null,
          failover, clusterTimeline, optime, null, sync, failsafe);
    }

    Decision decide() {
      LocalState state = local.build();
      if (dcsLost) state = state.toBuilder().dcsConnected(false).build();
      return HaCore.decide(view(), state, cfg(), me(), now);
    }

    @Override
    public String toString() {
      return name;
    }
  }
}
