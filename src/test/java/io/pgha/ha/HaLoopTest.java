package io.pgha.ha;

import io.pgha.model.NodeStatus;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgha.config.ConfigLoader;
import io.pgha.config.DynamicConfigJson;
import io.pgha.config.DynamicConfig;
import io.pgha.config.HostPort;
import io.pgha.config.PghaConfig;
import io.pgha.dcs.DcsHealth;
import io.pgha.decision.Action;
import io.pgha.decision.ClusterView;
import io.pgha.decision.DataDirState;
import io.pgha.decision.FailoverRequest;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.PeerStatus;
import io.pgha.decision.RestartRequest;
import io.pgha.decision.SlotPlan;
import io.pgha.guard.FencingGuard;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.Dcs;
import io.pgha.ha.port.Fence;
import io.pgha.ha.port.Hooks;
import io.pgha.ha.port.OperationReply;
import io.pgha.ha.port.Peers;
import io.pgha.ha.port.Ports;
import io.pgha.ha.port.Postgres;
import io.pgha.ha.port.Reporter;
import io.pgha.postgres.PgStatus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver with hand-written fake ports, single-threaded: every stage completes at once or when the test says so,
 * and time moves only when the test advances the fake clock. The big test is the simulation (io.pgha.sim).
 */
class HaLoopTest {
  private static final String SYSID = "7711537902423831623";
  private static final long T0 = 1_000_000;

  @TempDir Path dir;

  private final FakeClock clock = new FakeClock();
  private final FakeDcs dcs = new FakeDcs();
  private final FakePostgres pg = new FakePostgres();
  private final List<String> calls = new ArrayList<>();
  private final List<String> decisions = new ArrayList<>();
  private final List<String> fatal = new ArrayList<>();
  private final Map<String, PeerStatus> peerAnswers = new LinkedHashMap<>();
  private boolean prePromoteOk = true;
  private CompletableFuture<Boolean> prePromoteAnswer;
  private CompletableFuture<Void> beforeStopResult = CompletableFuture.completedFuture(null);

  private final Map<String, Boolean> failsafeAnswers = new LinkedHashMap<>();
  private final List<FencingGuard.Situation> guardSituations = new ArrayList<>();
  private String extraDcs = "";
  private boolean guarding = true;

  private PghaConfig config(boolean bootstrap) throws Exception {
    String yaml = """
        scope: batman
        name: pg1
        restapi:
          listen: 127.0.0.1:8008
          connect_address: 127.0.0.1:8008
        zookeeper:
          hosts: 127.0.0.1:2181
        postgresql:
          listen: 127.0.0.1:5432
          connect_address: 127.0.0.1:5432
          data_dir: %s
        """.formatted(dir.resolve("data"));
    if (bootstrap) yaml += "bootstrap:\n  dcs:\n    ttl: 30\n    loop_wait: 10\n" + extraDcs;
    Path file = dir.resolve("pgha.yml");
    Files.writeString(file, yaml);
    return ConfigLoader.load(file, Map.of(), configured -> Path.of("/opt/fake-pg/bin"));
  }

  private HaLoop loop(boolean bootstrap) throws Exception {
    return loop(bootstrap, HaLoop.Options.defaults());
  }

  private HaLoop loop(boolean bootstrap, HaLoop.Options options) throws Exception {
    Ports ports = new Ports(clock, dcs, pg, new FakePeers(), new FakeFence(guardSituations), new FakeReporter(),
        new FakeHooks(),
        () -> CompletableFuture.failedFuture(new IllegalStateException("no file")));
    return new HaLoop(config(bootstrap), ports, options);
  }

  private static MemberRecord member(String name, String role) {
    int n = name.charAt(2) - '0';
    return new MemberRecord(name, "postgres://127.0.0.1:" + (5430 + n) + "/postgres",
        "http://127.0.0.1:" + (8000 + n) + "/patroni", "running", role, 100L, 1, false, 1, false, false, null, false);
  }

  private static ClusterView view(String leader, boolean mine, FailoverRequest failover, MemberRecord... members) {
    Map<String, MemberRecord> byName = new LinkedHashMap<>();
    for (MemberRecord m : members) byName.put(m.name(), m);
    return new ClusterView(leader, mine, byName, SYSID, null, failover, 1, 100);
  }

  private static PgStatus primaryStatus(long lsn) {
    return new PgStatus(false, lsn, 0, 0, null, false, 1, SYSID, "2026-12-05 10:00:00+00", 150004, null, List.of());
  }

  private void runningPrimary(long lsn) {
    pg.alive = true;
    pg.status = primaryStatus(lsn);
  }

  @Test
  void aLeaderWithTheLockConfirmsItAndPublishesItsPosition() throws Exception {
    runningPrimary(300);
    dcs.view = view("pg1", true, null, member("pg1", "primary"), member("pg2", "replica"));
    HaLoop loop = loop(false);
    loop.start().toCompletableFuture().join();

    assertThat(decisions).anySatisfy(d -> assertThat(d).contains("reason=LEADER_WITH_LOCK").contains("trigger=start"));
    assertThat(calls).contains("writeStatus 300");
    assertThat(calls).noneMatch(c -> c.startsWith("stop") || c.startsWith("releaseLeader"));
    clock.advance(1100); // the heartbeat proves the key every ttl/10 (at most 1 s)
    assertThat(calls).contains("confirmLeader");
  }

  /**
   * Failsafe (§10.2) in the driver: cut off from ZooKeeper, the primary POSTs every listed member; the cover it
   * gives itself and the guard is the send time of the last all-accepted round + ttl, never more, and a partial
   * round extends nothing: the primary is then stopped as without failsafe, escalating at that cover's end.
   */
  @Test
  void aPrimaryWithoutZooKeeperStaysOnlyWhileEveryListedMemberAccepts() throws Exception {
    extraDcs = "    failsafe_mode: true\n";
    runningPrimary(300);
    dcs.view = view("pg1", true, null, member("pg1", "primary"), member("pg2", "replica"), member("pg3", "replica"))
        .withFailsafe(Map.of("pg1", "http://127.0.0.1:8001/patroni", "pg2", "http://127.0.0.1:8002/patroni",
            "pg3", "http://127.0.0.1:8003/patroni"));
    failsafeAnswers.put("pg2", true);
    failsafeAnswers.put("pg3", true);
    HaLoop loop = loop(true);
    loop.start().toCompletableFuture().join();
    assertThat(calls).noneMatch(c -> c.startsWith("postFailsafe")); // ZooKeeper fine: no rounds

    long lostAt = clock.monotonicMs();
    dcs.confirmedAtMs = lostAt;
    dcs.connected = false;
    loop.onHealth(dcs.health());
    assertThat(calls).contains("postFailsafe [pg2, pg3] at " + lostAt);
    assertThat(decisions.get(decisions.size() - 1)).contains("reason=FAILSAFE_KEEP_PRIMARY");
    assertThat(guardSituations.get(guardSituations.size() - 1).failsafeUntilMs()).isEqualTo(lostAt + 30_000);

    clock.advance(40_000); // rounds every loop_wait, all accepted: still primary, cover from each round's send time
    assertThat(calls).noneMatch(c -> c.startsWith("stop"));
    long lastRound = lastRoundAt();
    assertThat(lastRound).isGreaterThan(lostAt + 30_000);
    assertThat(loop.state().local().failsafeUntilMs()).isEqualTo(lastRound + 30_000);

    failsafeAnswers.put("pg3", false); // one member stops accepting: nothing is extended any more
    clock.advance(10_000);
    assertThat(lastRoundAt()).isGreaterThan(lastRound);
    assertThat(guardSituations).allSatisfy(s -> assertThat(s.failsafeUntilMs()).isLessThanOrEqualTo(lastRound + 30_000));
    assertThat(decisions).anySatisfy(d -> assertThat(d).contains("action=Stop reason=DCS_UNREACHABLE_DEMOTE"));
    assertThat(calls).anySatisfy(c -> assertThat(c).startsWith("stop FAST"));
  }

  private long lastRoundAt() {
    String last = calls.stream().filter(c -> c.startsWith("postFailsafe")).reduce((a, b) -> b).orElseThrow();
    return Long.parseLong(last.substring(last.lastIndexOf(' ') + 1));
  }

  @Test
  void aReplicaGrantsALeaseOnlyWhenItCannotLead() throws Exception {
    extraDcs = "    failsafe_mode: true\n";
    pg.alive = true;
    pg.status = new PgStatus(true, 200, 200, 200, "streaming", false, 1, SYSID, "2026-12-05 10:00:00+00", 150004,
        null, List.of());
    dcs.view = view("pg2", false, null, member("pg1", "replica"), member("pg2", "primary"));
    HaLoop loop = loop(true);
    loop.start().toCompletableFuture().join();

    FailsafeDuties.Reply accepted = loop.failsafePost("pg2", "postgres://127.0.0.1:5432/postgres",
        "http://127.0.0.1:8002/patroni");
    assertThat(accepted.status()).isEqualTo(200);
    assertThat(accepted.message()).isEqualTo("Accepted");
    assertThat(loop.state().local().failsafeLease().leader()).isEqualTo("pg2");
    assertThat(loop.state().local().failsafeLease().receivedAtMs()).isEqualTo(clock.monotonicMs());

    // the leader key vanishes (pg2's session expired): within ttl of the POST pg1 follows pg2 and does not race
    dcs.view = view(null, false, null, member("pg1", "replica"));
    peerAnswers.put("pg3", new PeerStatus("pg3", true, false, 10, 1, false, 1));
    loop.onView(dcs.view);
    clock.advance(20_000);
    assertThat(calls).doesNotContain("acquireLeader");
    clock.advance(15_000); // past ttl: the lease is over, pg1 races
    assertThat(calls).contains("acquireLeader");
    assertThat(loop.state().local().failsafeLease()).as("reset once we hold the key").isNull();

    runningPrimary(300);
    clock.advance(10_000);
    FailsafeDuties.Reply refused = loop.failsafePost("pg2", null, null);
    assertThat(refused.status()).isEqualTo(500);
    assertThat(refused.message()).isEqualTo("Running as a leader");
  }

  @Test
  void aTtlChangeRenewsTheSessionTwoTicksBelowTheNewTtlWithTheTickTheAgentLearned() throws Exception {
    HaLoop loop = leaderAtTick500();

    takeConfig(loop, 20, 10, 5);

    assertThat(calls).contains("renewSession 19000"); // 20 s − 2 × 500 ms, no socket asked from the loop
  }

  /** pg1 leads a running primary; the agent asked the ensemble once: tick 500 ms. */
  private HaLoop leaderAtTick500() throws Exception {
    runningPrimary(300);
    dcs.view = view("pg1", true, null, member("pg1", "primary"), member("pg2", "replica"));
    HaLoop loop = loop(false, new HaLoop.Options(true, 500));
    loop.start().toCompletableFuture().join();
    return loop;
  }

  /** A {@code config} key with these timings arrives with the next view. */
  private io.pgha.config.DynamicConfig takeConfig(HaLoop loop, int ttl, int loopWait, int retryTimeout) {
    ClusterView v = dcs.view;
    var config = DynamicConfigJson.parse(new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()
        .put("ttl", ttl).put("loop_wait", loopWait).put("retry_timeout", retryTimeout));
    loop.onView(new ClusterView(v.leader(), v.leaderIsMe(), v.members(), v.initialize(), config, null,
        v.clusterTimeline(), v.optime()));
    return config;
  }

  @Test
  void withoutTheFencingGuardALowerTtlFromTheClusterConfigKeepsTheFloorForThisMemberWithOneWarning() throws Exception {
    for (boolean guard : new boolean[] {true, false}) {
      guarding = guard;
      calls.clear();
      HaLoop loop = leaderAtTick500();

      var config = takeConfig(loop, 5, 1, 2);

      assertThat(loop.dynamic().ttlSeconds()).isEqualTo(guard ? 5 : 7);
      assertThat(loop.dynamic().raw()).isEqualTo(config.raw()); // the cluster's key is not rewritten
      assertThat(loop.dynamic().warnings()).hasSize(guard ? 0 : 1);
      if (!guard) {
        assertThat(loop.dynamic().warnings().get(0)).isEqualTo("ttl=5 is below 7, the least ttl without the fencing"
            + " guard (pgha.fencing_guard is off): this member uses 7");
      }
      assertThat(calls).contains(guard ? "renewSession 4000" : "renewSession 6000"); // ttl − 2 × 500 ms
      takeConfig(loop, 5, 1, 2); // the same key again: no second renewal
      assertThat(calls.stream().filter(c -> c.startsWith("renewSession")).count()).isEqualTo(1);
    }
  }

  @Test
  void aFailedBootstrapGivesTheInitializeKeyBackAndStopsTheAgent() throws Exception {
    dcs.view = new ClusterView(null, false, Map.of(), null, null, null, 0, 0);
    pg.dataDir = new Postgres.DataDir(DataDirState.EMPTY, null, false, 0);
    pg.initdb = CompletableFuture.failedFuture(new IllegalStateException("initdb: disk full"));
    HaLoop loop = loop(true);
    loop.start().toCompletableFuture().join();

    assertThat(calls).containsSubsequence("raceInitialize", "initdb", "stop IMMEDIATE", "deleteInitialize",
        "moveDataDirAside");
    assertThat(fatal).containsExactly("bootstrap failed: initdb: disk full");
    assertThat(calls).doesNotContain("acquireLeader");
  }

  @Test
  void aSwitchoverHandsTheKeyOverOnlyAfterTheCandidateReceivedTheFinalPosition() throws Exception {
    runningPrimary(300);
    dcs.view = view("pg1", true, new FailoverRequest("pg1", "pg2", null), member("pg1", "primary"),
        member("pg2", "replica"));
    peerAnswers.put("pg2", new PeerStatus("pg2", true, false, 300, 1, false, 1));
    pg.dataDir = new Postgres.DataDir(DataDirState.PRIMARY, SYSID, true, 400);
    pg.receivedLsn = 200; // behind the shutdown checkpoint at 400
    HaLoop loop = loop(false);
    loop.start().toCompletableFuture().join();

    assertThat(calls).containsSubsequence("checkpoint", "stop FAST", "inspectDataDir", "receivedLsn 127.0.0.1:5432");
    assertThat(calls).doesNotContain("releaseLeader");
    pg.receivedLsn = 401; // the candidate streams the shutdown checkpoint
    clock.advance(20);
    assertThat(calls).containsSubsequence("stop FAST", "writeStatus 400", "releaseLeader");
    assertThat(calls).doesNotContain("start primary"); // it rejoins as a replica (of nobody until the view says)
    assertThat(loop.state().keyReleased()).isTrue();
  }

  @Test
  void aSwitchoverWhoseCandidateStaysBehindKeepsTheLeader() throws Exception {
    runningPrimary(300);
    dcs.view = view("pg1", true, new FailoverRequest("pg1", "pg2", null), member("pg1", "primary"),
        member("pg2", "replica"));
    peerAnswers.put("pg2", new PeerStatus("pg2", true, false, 300, 1, false, 1));
    pg.dataDir = new Postgres.DataDir(DataDirState.PRIMARY, SYSID, true, 400);
    pg.receivedLsn = 200;
    HaLoop loop = loop(false);
    loop.start().toCompletableFuture().join();
    for (int i = 0; i < 300; i++) clock.advance(20); // 6 s: past the 5 s catch-up bound

    assertThat(calls).containsSubsequence("stop FAST", "start primary", "clearFailover");
    assertThat(calls).doesNotContain("releaseLeader");
  }

  @Test
  void aRestartIsRefusedWhileAnotherOperationRuns() throws Exception {
    runningPrimary(300);
    dcs.view = view("pg1", true, null, member("pg1", "primary"), member("pg2", "replica"));
    HaLoop loop = loop(false);
    loop.start().toCompletableFuture().join();
    OperationReply wrongRole = loop.restart(new RestartRequest("replica", null, null, null, false))
        .toCompletableFuture().join();
    assertThat(wrongRole).isEqualTo(new OperationReply(503, "restart conditions are not satisfied (role is primary)"));
    pg.stopResult = new CompletableFuture<>(); // the first restart's stop does not finish yet

    CompletionStage<OperationReply> first = loop.restart(RestartRequest.NOW);
    OperationReply second = loop.restart(RestartRequest.NOW).toCompletableFuture().join();
    assertThat(second).isEqualTo(new OperationReply(503, "restart already in progress"));
    assertThat(first.toCompletableFuture()).isNotDone();

    pg.stopResult.complete(null);
    assertThat(first.toCompletableFuture().join()).isEqualTo(new OperationReply(200, "restarted successfully"));
    assertThat(calls).containsSubsequence("stop FAST", "start primary");
  }

  // ---- pre_promote and before_stop ----

  private void runningReplica(long lsn) {
    pg.alive = true;
    pg.dataDir = new Postgres.DataDir(DataDirState.REPLICA, SYSID, true, 0);
    pg.status = new PgStatus(true, 0, lsn, lsn, null, false, 1, SYSID, "2026-12-05 10:01:00+00", 150004, null,
        List.of());
  }

  private long count(String call) {
    return calls.stream().filter(call::equals).count();
  }

  @Test
  void aFailedPrePromoteReleasesTheKeyAndKeepsOutOfTheRaceForTtl() throws Exception {
    runningReplica(300);
    dcs.view = view(null, false, null, member("pg1", "replica"), member("pg2", "replica"));
    peerAnswers.put("pg2", new PeerStatus("pg2", true, false, 100, 1, false, 1));
    prePromoteOk = false;
    HaLoop loop = loop(true);
    loop.start().toCompletableFuture().join();

    assertThat(calls).containsSubsequence("acquireLeader", "prePromote 30000", "releaseLeader");
    assertThat(calls).doesNotContain("promote");
    assertThat(decisions).anySatisfy(d -> assertThat(d).contains("reason=PRE_PROMOTE_FAILED_RELEASE"));
    assertThat(loop.state().view().hasLeader()).isFalse();
    clock.advance(25_000); // loop_wait cycles within ttl: no race
    assertThat(count("acquireLeader")).isEqualTo(1);
    assertThat(decisions).anySatisfy(d -> assertThat(d).contains("reason=PRE_PROMOTE_BACKOFF"));

    prePromoteOk = true;
    clock.advance(10_000); // ttl has passed: races, and now promotes
    assertThat(count("acquireLeader")).isEqualTo(2);
    assertThat(calls).containsSubsequence("releaseLeader", "acquireLeader", "prePromote 30000", "promote");
  }

  /**
   * §10.3 in the driver: a standby cluster's replica that wins the race holds the key as standby leader and re-points
   * at the remote primary with the standby_cluster settings, never promoting; its member key says standby_leader.
   */
  @Test
  void aStandbyClusterReplicaThatWinsTheRaceFollowsTheRemotePrimary() throws Exception {
    runningReplica(300);
    extraDcs = "    standby_cluster:\n      host: 10.0.0.9\n      port: 6432\n      primary_slot_name: b\n"
        + "      restore_command: cp /a/%f %p\n      recovery_min_apply_delay: 1min\n";
    dcs.view = view(null, false, null, member("pg1", "replica"), member("pg2", "replica"));
    peerAnswers.put("pg2", new PeerStatus("pg2", true, false, 100, 1, false, 1));
    HaLoop loop = loop(true);
    loop.start().toCompletableFuture().join();

    assertThat(calls).containsSubsequence("acquireLeader", "writeConfig", "reload");
    assertThat(calls).doesNotContain("promote").noneMatch(c -> c.startsWith("prePromote"));
    assertThat(pg.lastRecovery).isEqualTo(new Postgres.Recovery("10.0.0.9", 6432, "b", "cp /a/%f %p", null, "1min"));
    assertThat(decisions).anySatisfy(d -> assertThat(d).contains("reason=STANDBY_LEADER_FOLLOW_REMOTE"));
    assertThat(loop.memberJson()).contains("\"role\":\"standby_leader\"");
    clock.advance(25_000);
    assertThat(calls).doesNotContain("promote");
    assertThat(decisions).anySatisfy(d -> assertThat(d).contains("reason=STANDBY_LEADER_WITH_LOCK")
        .contains("role=standby_leader"));
  }

  @Test
  void aSucceedingPrePromoteRunsBeforeThePromotion() throws Exception {
    runningReplica(300);
    dcs.view = view(null, false, null, member("pg1", "replica"), member("pg2", "replica"));
    peerAnswers.put("pg2", new PeerStatus("pg2", true, false, 100, 1, false, 1));
    HaLoop loop = loop(true);
    loop.start().toCompletableFuture().join();

    assertThat(calls).containsSubsequence("acquireLeader", "prePromote 30000", "promote");
    assertThat(calls).doesNotContain("releaseLeader");
  }

  @Test
  void aPrePromoteThatOutlivesTheKeyDoesNotPromote() throws Exception {
    runningReplica(300);
    dcs.view = view(null, false, null, member("pg1", "replica"), member("pg2", "replica"));
    peerAnswers.put("pg2", new PeerStatus("pg2", true, false, 100, 1, false, 1));
    CompletableFuture<Boolean> script = new CompletableFuture<>();
    prePromoteAnswer = script;
    HaLoop loop = loop(true);
    loop.start().toCompletableFuture().join();
    assertThat(calls).containsSubsequence("acquireLeader", "prePromote 30000");

    loop.onView(view("pg2", false, null, member("pg1", "replica"), member("pg2", "primary"))); // key lost meanwhile
    script.complete(true);
    assertThat(calls).doesNotContain("promote");
  }

  @Test
  void beforeStopRunsBeforeEveryStopAndItsFailureDoesNotStopTheStop() throws Exception {
    runningPrimary(300);
    dcs.view = view("pg1", true, null, member("pg1", "primary"), member("pg2", "replica"));
    HaLoop loop = loop(false);
    loop.start().toCompletableFuture().join();
    beforeStopResult = CompletableFuture.failedFuture(new IllegalStateException("exit 3"));

    assertThat(loop.restart(RestartRequest.NOW).toCompletableFuture().join().status()).isEqualTo(200);
    assertThat(calls).containsSubsequence("beforeStop 15000", "stop FAST", "start primary");

    beforeStopResult = CompletableFuture.completedFuture(null);
    calls.clear();
    loop.shutdown().toCompletableFuture().join();
    assertThat(calls).containsSubsequence("beforeStop 15000", "stop FAST", "releaseLeader");
  }

  @Test
  void beforeStopIsSkippedWhenNoPostmasterRunsAndBoundedByTheStopDeadline() throws Exception {
    DynamicConfig cfg = io.pgha.config.DynamicConfigJson.parse(
        new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode());
    assertThat(HaLoop.beforeStopLimitMs(Action.StopMode.FAST, 0, cfg)).isEqualTo(cfg.ttlSeconds() * 500L);
    assertThat(HaLoop.beforeStopLimitMs(Action.StopMode.IMMEDIATE, 0, cfg))
        .isEqualTo(Math.min(cfg.ttlSeconds() * 500L, cfg.loopWaitSeconds() * 1000L));
    assertThat(HaLoop.beforeStopLimitMs(Action.StopMode.FAST, 8_000, cfg)).isEqualTo(4_000);

    pg.alive = false;
    pg.dataDir = new Postgres.DataDir(DataDirState.PRIMARY, SYSID, true, 0);
    dcs.view = view("pg2", false, null, member("pg1", "replica"), member("pg2", "primary"));
    HaLoop loop = loop(false);
    loop.start().toCompletableFuture().join();
    loop.shutdown().toCompletableFuture().join();
    assertThat(calls).noneMatch(c -> c.startsWith("beforeStop"));
  }

  // ---- fakes ----

  private final class FakeClock implements Clock {
    private long now = T0;
    private long seq;
    private final PriorityQueue<long[]> queue = new PriorityQueue<>((a, b) ->
        a[0] != b[0] ? Long.compare(a[0], b[0]) : Long.compare(a[1], b[1]));
    private final Map<Long, Runnable> tasks = new LinkedHashMap<>();

    @Override public long monotonicMs() { return now; }

    @Override public long wallMs() { return 1_795_000_000_000L + now; }

    @Override
    public Timer after(long delayMs, Runnable task) {
      long id = seq++;
      queue.add(new long[] {now + Math.max(1, delayMs), id});
      tasks.put(id, task);
      return () -> tasks.remove(id);
    }

    void advance(long ms) {
      long until = now + ms;
      while (!queue.isEmpty() && queue.peek()[0] <= until) {
        long[] next = queue.poll();
        now = next[0];
        Runnable task = tasks.remove(next[1]);
        if (task != null) task.run();
      }
      now = until;
    }
  }

  private final class FakeDcs implements Dcs {
    ClusterView view;

    private <T> CompletionStage<T> done(String call, T result) {
      calls.add(call);
      return CompletableFuture.completedFuture(result);
    }

    @Override public ClusterView view() { return view; }

    boolean connected = true;
    long confirmedAtMs = -1; // -1: now

    @Override public DcsHealth health() {
      return new DcsHealth(connected, 1, 30_000, confirmedAtMs < 0 ? clock.monotonicMs() : confirmedAtMs, 0);
    }

    @Override public long negotiatedSessionTimeoutMs() { return 30_000; }

    @Override public CompletionStage<Boolean> acquireLeader() { return done("acquireLeader", true); }

    /** The candidate takes the key at once; the watch tells the loop a moment later. */
    @Override
    public CompletionStage<Void> releaseLeader() {
      if (view != null && view.failover() != null) {
        view = new ClusterView(view.failover().candidate(), false, view.members(), view.initialize(), null, null, 2,
            view.optime());
      }
      return done("releaseLeader", null);
    }

    @Override public CompletionStage<Boolean> confirmLeader() {
      if (!connected) {
        calls.add("confirmLeader failed");
        return CompletableFuture.failedFuture(new IllegalStateException("connection loss"));
      }
      return done("confirmLeader", true);
    }

    @Override public CompletionStage<Boolean> raceInitialize() { return done("raceInitialize", true); }

    @Override public CompletionStage<Void> writeInitialize(String sysid) { return done("writeInitialize", null); }

    @Override public CompletionStage<Boolean> createInitialize(String sysid) { return done("createInitialize", true); }

    @Override public CompletionStage<Void> deleteInitialize() { return done("deleteInitialize", null); }

    @Override public CompletionStage<Boolean> createConfig(String json) { return done("createConfig", true); }

    @Override public CompletionStage<Void> writeStatus(long optime) { return done("writeStatus " + optime, null); }

    @Override public CompletionStage<Void> clearFailover() { return done("clearFailover", null); }
    @Override public CompletionStage<Void> writeFailsafe(Map<String, String> t) { return done("writeFailsafe " + t, null); }


    @Override public CompletionStage<Void> writeHistory(List<HistoryEntry> history) { return done("writeHistory", null); }

    @Override
    public CompletionStage<Boolean> writeSync(String leader, Set<String> standbys, int quorum, int expectedVersion) {
      return done("writeSync", true);
    }

    @Override public void publishMember(String json) { }

    @Override public CompletionStage<Void> renewSession(long ms) { return done("renewSession " + ms, null); }

    @Override public CompletionStage<String> existingMemberApiUrl(String name) { return done("existing", null); }

    @Override public void close() { calls.add("dcs.close"); }
  }

  private final class FakePostgres implements Postgres {
    Recovery lastRecovery;
    boolean alive;
    PgStatus status;
    DataDir dataDir = new DataDir(DataDirState.PRIMARY, SYSID, true, 0);
    CompletableFuture<Void> initdb = CompletableFuture.completedFuture(null);
    CompletableFuture<Void> stopResult = CompletableFuture.completedFuture(null);
    long receivedLsn;

    private <T> CompletionStage<T> done(String call, T result) {
      calls.add(call);
      return CompletableFuture.completedFuture(result);
    }

    @Override public boolean postmasterAlive() { return alive; }

    @Override public long postmasterPid() { return alive ? 4242 : 0; }

    @Override public CompletionStage<String> readiness() { return done("readiness", alive ? "ready" : null); }

    @Override public CompletionStage<Boolean> adoptRunning() { return done("adoptRunning", alive); }

    @Override public CompletionStage<DataDir> inspectDataDir() { return done("inspectDataDir", dataDir); }

    @Override
    public CompletionStage<PgStatus> status() {
      return alive && status != null ? CompletableFuture.completedFuture(status)
          : CompletableFuture.failedFuture(new IllegalStateException("not running"));
    }

    @Override public Map<String, String> parameters(PghaConfig config, DynamicConfig dynamic) { return Map.of(); }

    @Override public Written lastWritten() { return new Written(Map.of(), true); }

    @Override
    public CompletionStage<Boolean> start(Map<String, String> params, Recovery recovery) {
      calls.add("start " + (recovery == null ? "primary" : "replica of " + recovery.host()));
      alive = true;
      status = recovery == null ? (status != null && !status.inRecovery() ? status : primaryStatus(0))
          : new PgStatus(true, 0, 300, 300, null, false, 1, SYSID, "2026-12-05 10:01:00+00", 150004, null, List.of());
      return CompletableFuture.completedFuture(true);
    }

    @Override
    public CompletionStage<Void> stop(Action.StopMode mode, long escalateAfterMs) {
      calls.add("stop " + mode);
      return stopResult.thenRun(() -> alive = false);
    }

    @Override
    public CompletionStage<Void> initdb() {
      calls.add("initdb");
      return initdb;
    }

    @Override public CompletionStage<Void> createBootstrapRoles() { return done("roles", null); }

    @Override public CompletionStage<Void> postBootstrapScript() { return done("postBootstrap", null); }

    @Override public CompletionStage<Void> moveDataDirAside() { return done("moveDataDirAside", null); }

    @Override public CompletionStage<Void> basebackup(HostPort source) { return done("basebackup", null); }

    @Override public CompletionStage<Void> crashRecovery(Map<String, String> params) { return done("crash", null); }

    @Override public CompletionStage<Void> rewind(HostPort source, boolean dryRun) { return done("rewind", null); }

    @Override public CompletionStage<Void> wipeDataDir() { return done("wipe", null); }

    @Override
    public CompletionStage<Void> writeConfig(Map<String, String> params, Recovery recovery) {
      lastRecovery = recovery;
      return done("writeConfig", null);
    }

    @Override public CompletionStage<Void> reload() { return done("reload", null); }

    @Override public CompletionStage<Void> promote() { return done("promote", null); }

    @Override public CompletionStage<Void> checkpoint() { return done("checkpoint", null); }

    @Override public CompletionStage<List<SlotPlan.Existing>> replicationSlots() { return done("slots", List.of()); }

    @Override
    public CompletionStage<List<SlotPlan.Failure>> applySlotOps(List<SlotPlan.Op> ops) { return done("slotOps", List.of()); }

    @Override
    public CompletionStage<Map<String, byte[]>> readLogicalSlotStates(HostPort leader, List<String> names) {
      return done("slotStates", Map.of());
    }

    @Override public CompletionStage<Void> writeSlotStates(Map<String, byte[]> states) { return done("slotFiles", null); }

    @Override public CompletionStage<String> timelineHistory(int timeline) { return done("history", null); }

    @Override
    public CompletionStage<Map<String, PendingSetting>> pendingRestart() {
      return done("pendingRestart", Map.of());
    }

    @Override
    public CompletionStage<SyncSnapshot> syncSnapshot() {
      return done("syncSnapshot", new SyncSnapshot(List.of(), 0, ""));
    }

    @Override public CompletionStage<Void> nudgeWal() { return done("nudgeWal", null); }

    @Override
    public CompletionStage<Long> receivedLsn(HostPort member) {
      return done("receivedLsn " + member.host() + ":" + member.port(), receivedLsn);
    }

    @Override
    public CompletionStage<WalPosition> identifySystem(HostPort member) {
      return done("identifySystem", new WalPosition(1, 0));
    }

    @Override
    public CompletionStage<LeaderTimeline> leaderTimeline(HostPort leader) {
      return done("leaderTimeline", new LeaderTimeline(1, ""));
    }

    @Override public void close() { }
  }

  private final class FakePeers implements Peers {
    @Override
    public CompletionStage<Map<String, PeerStatus>> probe(Collection<MemberRecord> peers) {
      calls.add("probe");
      return CompletableFuture.completedFuture(Map.copyOf(peerAnswers));
    }

    @Override public CompletionStage<Boolean> answers(String apiUrl) { return CompletableFuture.completedFuture(false); }

    @Override
    public CompletionStage<Map<String, Boolean>> postFailsafe(Map<String, String> apiUrls, String body) {
      calls.add("postFailsafe " + new java.util.TreeSet<>(apiUrls.keySet()) + " at " + clock.monotonicMs());
      Map<String, Boolean> out = new java.util.TreeMap<>();
      apiUrls.keySet().forEach(n -> out.put(n, failsafeAnswers.getOrDefault(n, false)));
      return CompletableFuture.completedFuture(out);
    }

    @Override public void close() { }
  }

  private final class FakeFence implements Fence {
    private final List<FencingGuard.Situation> seen;

    FakeFence(List<FencingGuard.Situation> seen) {
      this.seen = seen;
    }

    @Override public void start() { }

    @Override public void update(FencingGuard.Situation situation, String why) { seen.add(situation); }

    @Override public void disarm(String why) { }

    @Override public boolean watchdogFailed() { return false; }

    @Override public boolean guarding() { return guarding; }

    @Override public void countFires(String when) { }

    @Override public void close() { }
  }

  private final class FakeReporter implements Reporter {
    @Override public void decided(String line) { decisions.add(line); }

    @Override public void status(NodeStatus status) { }

    @Override public void fatal(String why) { fatal.add(why); }
  }

  private final class FakeHooks implements Hooks {
    @Override public void fire(String action, String role) { }

    @Override
    public CompletionStage<Boolean> prePromote(long limitMs) {
      calls.add("prePromote " + limitMs);
      return prePromoteAnswer != null ? prePromoteAnswer : CompletableFuture.completedFuture(prePromoteOk);
    }

    @Override
    public CompletionStage<Void> beforeStop(long limitMs) {
      calls.add("beforeStop " + limitMs);
      return beforeStopResult;
    }

    @Override public CompletionStage<Void> close() { return CompletableFuture.completedFuture(null); }
  }
}
