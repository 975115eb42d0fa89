package io.pgha.decision;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.decision.Action.StopMode;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * Properties of {@link HaCore#decide} over many random, seeded inputs: whatever the cluster looks like, some things
 * must never happen. A failure prints the seed of the case; rerun it with {@code -Dpgha.safety.seed=<seed>
 * -Dpgha.safety.rounds=1}. More rounds: {@code -Dpgha.safety.rounds=1000000}.
 */
class HaCoreSafetyTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String[] NAMES = {"pg1", "pg2", "pg3", "pg4"};
  private static final String SYSID = "7711537902423831623";
  private static final String OTHER_SYSID = "6911537902423831999";
  private static final long MASTER_SEED = Long.getLong("pgha.safety.seed", 0x5AFE_C0DEL);
  private static final int ROUNDS = Integer.getInteger("pgha.safety.rounds", 200_000);

  /** One generated input, with the seed that reproduces it. */
  record Case(long seed, ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me, long nowMs) {
    boolean dcsLost() {
      return view == null || !local.dcsConnected();
    }

    @Override
    public String toString() {
      return "seed=" + seed + "\n  view=" + view + "\n  local=" + local + "\n  cfg=" + cfg.raw() + "\n  me=" + me
          + "\n  now=" + nowMs;
    }
  }

  @Test
  void invariantsHoldForRandomInputs() {
    Random master = new Random(MASTER_SEED);
    Map<Reason, Integer> seen = new EnumMap<>(Reason.class);
    Set<Class<?>> actions = new java.util.HashSet<>();
    for (int i = 0; i < ROUNDS; i++) {
      long seed = ROUNDS == 1 && System.getProperty("pgha.safety.seed") != null ? MASTER_SEED : master.nextLong();
      Case c = generate(seed);
      Decision d;
      try {
        d = HaCore.decide(c.view(), c.local(), c.cfg(), c.me(), c.nowMs());
      } catch (RuntimeException e) {
        throw new AssertionError("decide threw for " + c, e);
      }
      List<String> broken = check(c, d);
      if (!broken.isEmpty()) {
        fail("invariants broken: " + broken + "\n decision=" + d + "\n case " + c
            + "\n rerun: -Dpgha.safety.seed=" + seed + " -Dpgha.safety.rounds=1");
      }
      seen.merge(d.reason(), 1, Integer::sum);
      actions.add(d.action().getClass());
    }
    if (ROUNDS >= 100_000) {
      // the generator reaches every reason HaCore can give, so the properties are not vacuous
      assertThat(seen.keySet()).as("reasons reached")
          .containsExactlyInAnyOrderElementsOf(EnumSet.complementOf(EnumSet.copyOf(HaCoreTest.NOT_PRODUCED_BY_HACORE)));
      assertThat(actions).as("actions reached").contains(Action.Promote.class, Action.StartPrimary.class,
          Action.AcquireLeader.class, Action.Stop.class, Action.Clone.class, Action.Rewind.class,
          Action.Follow.class, Action.StartReplica.class, Action.ReleaseLeader.class);
    }
  }

  /** Returns the invariants {@code d} breaks for {@code c}; empty when all hold. */
  static List<String> check(Case c, Decision d) {
    List<String> broken = new ArrayList<>();
    LocalState local = c.local();
    // inside a failsafe lease the sender leads when ZooKeeper shows nobody: clone/rewind/follow rules apply to it
    ClusterView view = Failsafe.effectiveView(c.view(), local, c.cfg(), c.nowMs());
    NodeSettings me = c.me();
    Action a = d.action();
    if (a == null || d.reason() == null || d.message() == null || d.duties() == null) {
      broken.add("decision has a null part");
      return broken;
    }
    boolean leaderIsMe = view != null && view.leaderIsMe();

    if ((a instanceof Action.Promote || a instanceof Action.StartPrimary) && !leaderIsMe) {
      broken.add("Promote/StartPrimary without holding the leader key");
    }
    // §10.3: a standby cluster never has a primary: nothing makes one, and only the key holder (or anyone while
    // there is no key) follows the remote primary
    if (c.cfg().isStandbyCluster() && (a instanceof Action.Promote || a instanceof Action.StartPrimary
        || a instanceof Action.Bootstrap)) {
      broken.add("Promote/StartPrimary/Bootstrap (initdb) in a standby cluster");
    }
    String remoteTarget = a instanceof Action.Follow f ? f.upstream()
        : a instanceof Action.StartReplica sr ? sr.upstream() : null;
    if (io.pgha.config.StandbyCluster.isRemote(remoteTarget)
        && (!c.cfg().isStandbyCluster() || view != null && view.hasLeader() && !leaderIsMe)) {
      broken.add("following the remote primary without being (or racing to be) the standby leader");
    }
    if (a instanceof Action.BootstrapStandbyLeader && !(local.wonInitializeRace()
        && local.dataDir() == DataDirState.EMPTY)) {
      broken.add("BootstrapStandbyLeader without winning the initialize race on an empty data dir");
    }
    if (a instanceof Action.AcquireLeader && (view == null || view.hasLeader())) {
      broken.add("AcquireLeader while there is a leader (or no view)");
    }
    if (a instanceof Action.AcquireLeader && view != null && !local.isRunningPrimary()
        && c.cfg().synchronousMode() == DynamicConfig.SyncMode.ON && !view.sync().isEmpty()
        && !view.sync().mayRace(me.name())
        && !(view.failover() != null && view.failover().leader() == null
            && me.name().equals(view.failover().candidate()))) {
      broken.add("AcquireLeader in synchronous mode by a replica the sync key does not list");
    }
    long releasedAtMs = local.prePromoteReleasedAtMs();
    if (a instanceof Action.AcquireLeader && !local.isRunningPrimary() && releasedAtMs > 0
        && c.nowMs() - releasedAtMs < c.cfg().ttlSeconds() * 1000L) {
      broken.add("AcquireLeader less than ttl after releasing the key on a failed pre_promote");
    }
    if (a instanceof Action.Promote && local.prePromoteFailed()) {
      broken.add("Promote after the pre_promote script failed");
    }
    if (a instanceof Action.ReleaseLeader && !leaderIsMe) {
      broken.add("ReleaseLeader of a key that is not mine");
    }
    String from = a instanceof Action.Clone ? ((Action.Clone) a).source()
        : a instanceof Action.Rewind ? ((Action.Rewind) a).source()
        : a instanceof Action.Follow ? ((Action.Follow) a).upstream()
        : a instanceof Action.StartReplica ? ((Action.StartReplica) a).upstream()
        : null;
    if (from != null && from.equals(me.name())) broken.add("clone/rewind/follow from myself");
    boolean rewindFromRemote = a instanceof Action.Rewind && io.pgha.config.StandbyCluster.isRemote(from)
        && c.cfg().isStandbyCluster() && leaderIsMe && local.dataDir() == DataDirState.PRIMARY;
    if ((a instanceof Action.Clone || a instanceof Action.Rewind) && !rewindFromRemote) {
      if (view == null || !view.hasLeader()) broken.add("clone/rewind without a leader");
      else if (!view.members().containsKey(from)) broken.add("clone/rewind from a member that does not exist");
    }
    if (a instanceof Action.Rewind && view != null && view.members().get(from) != null
        && view.members().get(from).checkpointAfterPromotePending()) {
      broken.add("pg_rewind from a leader whose checkpoint after promote is pending");
    }
    if (a instanceof Action.Clone && local.dataDir() != DataDirState.EMPTY) {
      broken.add("Clone over a data directory that is not empty");
    }
    if (a instanceof Action.Bootstrap && !(local.wonInitializeRace() && local.dataDir() == DataDirState.EMPTY)) {
      broken.add("Bootstrap without winning the initialize race on an empty data dir");
    }
    if (a instanceof Action.WriteInitialize && view != null && view.initialize() != null) {
      broken.add("WriteInitialize over an existing initialize key");
    }
    boolean divergedMayReclone = local.diverged() && me.removeDataOnDivergedTimelines();
    if (a instanceof Action.WipeDataDir && !local.rewindFailed() && !divergedMayReclone) {
      broken.add("WipeDataDir without a failed rewind or remove_data_directory_on_diverged_timelines");
    }
    if (a instanceof Action.WipeDataDir && local.dataDir() == DataDirState.REPLICA && local.rewindFailed()
        && !me.removeDataOnRewindFailure() && !me.removeDataOnDivergedTimelines()) {
      broken.add("WipeDataDir of a replica after a failed rewind without a remove_data_directory_on_* flag");
    }
    boolean divergedReplicaRepair = local.diverged() && local.isRunningReplica()
        && (me.usePgRewind() || me.removeDataOnDivergedTimelines());
    boolean divergedReason = d.reason() == Reason.DIVERGED_STOP_FOR_REWIND || d.reason() == Reason.DIVERGED_REINIT;
    if (divergedReason && (view == null || !view.hasLeader() || view.leaderIsMe())) {
      broken.add("diverged-timeline repair without another member leading");
    }
    boolean standbySwitchover = d.reason() == Reason.STANDBY_SWITCHOVER && c.cfg().isStandbyCluster() && leaderIsMe
        && view.failover() != null;
    if (a instanceof Action.Stop && !(local.isRunningPrimary() || local.task() == Task.PROMOTE
        || divergedReplicaRepair || standbySwitchover)) {
      broken.add("Stop of a postgres that is neither primary nor being promoted");
    }
    boolean paused = c.cfg().pause();
    if (paused) {
      if (a instanceof Action.Stop || a instanceof Action.Promote || a instanceof Action.Bootstrap
          || a instanceof Action.Clone || a instanceof Action.Rewind || a instanceof Action.CrashRecovery
          || a instanceof Action.StartPrimary || a instanceof Action.StartReplica || a instanceof Action.WipeDataDir) {
        // a task in flight while paused is the one exception HaCore makes today (see HaCoreTest.KnownBugs)
        boolean requestedPromote = a instanceof Action.Promote && view != null
            && HaCore.pausedSwitchoverNames(view, me) && leaderIsMe;
        if (!(a instanceof Action.Stop && local.task() != null) && !requestedPromote) {
          broken.add("postgres touched while paused");
        }
      }
    }

    // failsafe (§10.2): nobody else takes the key while a primary's lease to me runs, nor while the failsafe key
    // lists members without me (whatever failsafe_mode says now: the primary outside ZooKeeper cannot know)
    boolean leaseRuns = local.failsafeLease() != null && !local.failsafeLease().leader().equals(me.name())
        && c.nowMs() - local.failsafeLease().receivedAtMs() < c.cfg().ttlSeconds() * 1000L;
    if (a instanceof Action.AcquireLeader && !local.isRunningPrimary() && leaseRuns) {
      broken.add("AcquireLeader inside a failsafe lease granted to another primary");
    }
    if (a instanceof Action.AcquireLeader && !local.isRunningPrimary() && view != null && view.failsafe() != null
        && !view.failsafe().isEmpty() && !view.failsafe().containsKey(me.name())) {
      broken.add("AcquireLeader by a member the failsafe key does not list");
    }
    for (Decision.LeaderDuty duty : d.duties()) {
      if (duty instanceof Decision.LeaderDuty.WriteFailsafe w && !w.topology().isEmpty()
          && !w.topology().containsKey(me.name())) {
        broken.add("failsafe key written without the leader in it");
      }
    }
    // the cover of an all-accepted failsafe round (send time + ttl) counts like the session's bound, nothing else
    long failsafeUntil = c.cfg().failsafeMode() && !local.failsafeRoundFailed() ? local.failsafeUntilMs() : 0;
    boolean failsafeKeeps = failsafeUntil - 1000 > c.nowMs();
    if (d.reason() == Reason.FAILSAFE_KEEP_PRIMARY && !failsafeKeeps) {
      broken.add("kept running on failsafe without an all-accepted round covering the next second");
    }

    // fencing: a running primary that has not confirmed its key for longer than the grace is stopped
    if (c.dcsLost() && !paused && local.isRunningPrimary() && local.task() != Task.STOP && local.task() != Task.DEMOTE
        && !(local.wonInitializeRace() && local.lockConfirmedAtMs() == 0) && !failsafeKeeps) {
      long sessionMs = Math.min(local.sessionTtlMs(), c.cfg().ttlSeconds() * 1000L);
      long graceMs = Math.min(c.cfg().retryTimeoutSeconds() * 1000L, sessionMs / 2);
      if (c.nowMs() - local.lockConfirmedAtMs() >= graceMs) {
        if (!(a instanceof Action.Stop)) broken.add("primary not stopped after losing the DCS beyond the grace");
        else {
          Action.Stop stop = (Action.Stop) a;
          // an earlier all-accepted round's cover is as good a bound as the session's (never a partial round's)
          long deadline = Math.max(local.lockConfirmedAtMs() + sessionMs, local.failsafeUntilMs()) - 1000;
          if (stop.escalateAfterMs() < 1 || c.nowMs() + stop.escalateAfterMs() > Math.max(deadline, c.nowMs() + 1)) {
            broken.add("fencing stop escalates after the session may have expired");
          }
          if (stop.releaseKey()) broken.add("fencing stop wants to release a key it cannot reach");
        }
      }
    }
    // with the DCS lost nothing but fencing, a read-only start or nothing
    if (c.dcsLost() && !paused && !(a instanceof Action.None || a instanceof Action.Stop
        || (a instanceof Action.StartReplica && ((Action.StartReplica) a).upstream() == null))) {
      broken.add("acted on a lost DCS");
    }

    // one task at a time: while one runs, only a stop may be issued
    if (local.task() != null && !(a instanceof Action.None)) {
      if (!(a instanceof Action.Stop)) {
        broken.add("non-stop action while a task runs");
      } else {
        StopMode mode = ((Action.Stop) a).mode();
        // the DCS fence stops fast (with its escalation deadline); with the DCS reachable it is IMMEDIATE
        if (!c.dcsLost() && mode != StopMode.IMMEDIATE) broken.add("stop during a task is not IMMEDIATE");
      }
    }
    // keys are written only by the key holder (leading, or paused); slots are kept by it and by a following replica
    boolean holder = leaderIsMe && (d.reason() == Reason.LEADER_WITH_LOCK || d.reason() == Reason.PAUSED
        || d.reason() == Reason.STANDBY_LEADER_WITH_LOCK);
    boolean following = d.reason() == Reason.FOLLOWING || d.reason() == Reason.STANDBY_FOLLOWING;
    for (Decision.LeaderDuty duty : d.duties()) {
      if (duty instanceof Decision.LeaderDuty.SyncSlots) {
        if (!holder && !following) broken.add("slots kept while neither leading nor following");
      } else if (!holder) {
        broken.add("leader duty " + duty + " without holding the key");
      }
    }
    if (d.message().contains("%s") || d.message().contains("%d")) broken.add("unformatted message");
    return broken;
  }

  // --------------------------------------------------------------------------------------------------------------
  // Generator
  // --------------------------------------------------------------------------------------------------------------

  static Case generate(long seed) {
    Random r = new Random(seed);
    String myName = NAMES[0];
    DynamicConfig cfg = config(r);
    NodeSettings me = new NodeSettings(myName, r.nextInt(6) == 0, pick(r, 1, 1, 1, 0, 2, 3), r.nextInt(5) == 0,
        r.nextInt(8) == 0, r.nextInt(4) == 0 ? pick(r, NAMES) : null, r.nextInt(5) != 0, r.nextBoolean(),
        r.nextInt(3) == 0, r.nextInt(3) == 0);
    ClusterView view = r.nextInt(8) == 0 ? null : view(r, myName, cfg);
    LocalState local = local(r, myName, view);
    long now = 1_000_000 + r.nextInt(200_000);
    if (local.lockConfirmedAtMs() > 0) local = local.toBuilder().lockConfirmedAtMs(now - r.nextInt(60_000)).build();
    if (local.pgDownSinceMs() > 0) local = local.toBuilder().pgDownSinceMs(now - r.nextInt(600_000)).build();
    // pre_promote: drawn from a generator of their own, so the cases above stay what they were
    Random hooks = new Random(seed * 31 + 7);
    if (hooks.nextInt(8) == 0) local = local.toBuilder().prePromoteFailed(true).build();
    if (hooks.nextInt(6) == 0) local = local.toBuilder().prePromoteReleasedAtMs(now - hooks.nextInt(90_000)).build();
    // standby cluster (§10.3): a generator of its own as well; the view's copy of the config is left as it was
    Random sc = new Random(seed * 41 + 13);
    if (sc.nextInt(5) == 0) {
      ObjectNode raw = (ObjectNode) DynamicConfigJson.tree(cfg);
      raw.putObject("standby_cluster").put("host", "10.0.0.9").put("port", pick(sc, 5432, 6432));
      cfg = DynamicConfigJson.parse(raw);
      if (view != null && local.upstream() != null && sc.nextBoolean()) {
        local = local.toBuilder().upstream(cfg.standbyCluster().upstream()).build();
      }
    }
    // failsafe mode (§10.2): a generator of its own too
    Random fs = new Random(seed * 37 + 11);
    if (fs.nextInt(3) == 0) {
      ObjectNode raw = (ObjectNode) DynamicConfigJson.tree(cfg);
      raw.put("failsafe_mode", fs.nextInt(4) != 0);
      cfg = DynamicConfigJson.parse(raw);
      if (view != null && fs.nextInt(4) != 0) {
        view = view.withFailsafe(pick(fs, Map.<String, String>of(), Map.of(NAMES[0], "a", NAMES[1], "b"),
            Map.of(NAMES[1], "b", NAMES[2], "c"), Map.of(NAMES[0], "a")));
      }
      LocalState.Builder b = local.toBuilder();
      if (fs.nextBoolean()) {
        b.failsafeLease(new Failsafe.Lease(pick(fs, NAMES), "postgres://x:5432/postgres", "http://x:8008/patroni",
            now - fs.nextInt(2 * cfg.ttlSeconds() * 1000)));
      }
      if (fs.nextBoolean()) b.failsafeUntilMs(now - 5_000 + fs.nextInt(cfg.ttlSeconds() * 1000 + 5_000));
      if (fs.nextInt(3) == 0) b.failsafeRoundFailed(true);
      local = b.build();
    }
    return new Case(seed, view, local, cfg, me, now);
  }

  private static DynamicConfig config(Random r) {
    ObjectNode node = JSON.createObjectNode();
    if (r.nextInt(4) == 0) node.put("pause", true);
    if (r.nextBoolean()) node.put("ttl", pick(r, 7, 10, 20, 30, 60));
    if (r.nextBoolean()) node.put("retry_timeout", pick(r, 3, 5, 10));
    if (r.nextBoolean()) node.put("loop_wait", pick(r, 1, 5, 10));
    if (r.nextBoolean()) node.put("primary_start_timeout", pick(r, 0, 0, 30, 300));
    if (r.nextBoolean()) node.put("maximum_lag_on_failover", pick(r, 0, 100, 1_048_576));
    if (r.nextBoolean()) node.put("check_timeline", r.nextBoolean());
    if (r.nextInt(3) == 0) node.put("synchronous_mode", pick(r, "true", "on", "off"));
    if (r.nextBoolean()) node.putObject("postgresql").put("use_slots", r.nextBoolean());
    return DynamicConfigJson.parse(node);
  }

  private static ClusterView view(Random r, String myName, DynamicConfig cfg) {
    Map<String, MemberRecord> members = new TreeMap<>();
    for (String name : NAMES) {
      if (r.nextInt(3) == 0) continue;
      members.put(name, new MemberRecord(name,
          r.nextInt(10) == 0 ? null : "postgres://" + name + ":5432/postgres",
          "http://" + name + ":8008/patroni",
          pick(r, "running", "running", "streaming", "starting", "stopped", "crashed", null),
          pick(r, "primary", "master", "replica", "replica", "demoted", "uninitialized", null),
          r.nextInt(5) == 0 ? null : (long) r.nextInt(5000),
          r.nextInt(5) == 0 ? null : 1 + r.nextInt(4),
          r.nextInt(6) == 0,
          r.nextInt(4) == 0 ? pick(r, 0, 1, 2, 3) : null,
          r.nextInt(4) == 0,
          r.nextInt(10) == 0,
          r.nextInt(10) == 0 ? pick(r, NAMES) : null,
          r.nextInt(8) == 0));
    }
    String leader = pick(r, null, null, NAMES[0], NAMES[1], NAMES[2], NAMES[3], "");
    boolean leaderIsMe = myName.equals(leader) && r.nextInt(4) != 0;
    String initialize = pick(r, null, "", SYSID, SYSID, SYSID, OTHER_SYSID, "12345", "garbage");
    FailoverRequest failover = r.nextInt(5) != 0 ? null
        : new FailoverRequest(r.nextBoolean() ? pick(r, NAMES) : null, r.nextInt(4) == 0 ? null : pick(r, NAMES),
            r.nextBoolean() ? null : 1_000_000L);
    SyncState sync = r.nextInt(3) != 0 ? SyncState.EMPTY
        : new SyncState(pick(r, NAMES), r.nextBoolean() ? Set.of() : Set.of(pick(r, NAMES)), 1);
    return new ClusterView(leader, leaderIsMe, Map.copyOf(members), initialize, r.nextInt(5) == 0 ? null : cfg,
        failover, r.nextInt(5), r.nextInt(3) == 0 ? 0 : r.nextInt(2_000_000), null, sync);
  }

  private static LocalState local(Random r, String myName, ClusterView view) {
    PgRunState pg = pick(r, PgRunState.values());
    DataDirState data = pick(r, DataDirState.values());
    LocalState.Builder b = LocalState.builder(myName)
        .dataDir(data)
        .cleanShutdown(r.nextBoolean())
        .sysid(data == DataDirState.EMPTY && r.nextBoolean() ? null : pick(r, SYSID, SYSID, SYSID, OTHER_SYSID, null))
        .pg(pg)
        .inRecovery(pick(r, Boolean.TRUE, Boolean.FALSE, null))
        .upstream(r.nextBoolean() ? null : pick(r, NAMES))
        .lsn(r.nextInt(4) == 0 ? 0 : r.nextInt(5000))
        .timeline(r.nextInt(5))
        .task(r.nextInt(4) == 0 ? pick(r, Task.values()) : null)
        .crashed(r.nextBoolean())
        .pgDownSinceMs(r.nextBoolean() ? 1 : 0)
        .startAttemptFailed(r.nextInt(4) == 0)
        .wonInitializeRace(r.nextInt(5) == 0)
        .dcsConnected(r.nextInt(6) != 0)
        .lockConfirmedAtMs(r.nextBoolean() ? 1 : 0)
        .sessionTtlMs(pick(r, 30_000L, 30_000L, 20_000L, 10_000L, 6_000L))
        .shuttingDown(r.nextInt(10) == 0)
        .rewindFailed(r.nextInt(6) == 0)
        .diverged(r.nextInt(4) == 0)
        // around the scheduled_at of generated requests (1_000_000): unknown, well before, just after, long after
        .wallClockMs(pick(r, 0L, 500_000L, 1_000_500L, 5_000_000L));
    if (r.nextBoolean()) {
      Map<String, PeerStatus> peers = new LinkedHashMap<>();
      for (String name : NAMES) {
        if (r.nextInt(3) == 0) continue;
        peers.put(name, r.nextInt(5) == 0 ? PeerStatus.unreachable(name)
            : new PeerStatus(name, true, r.nextInt(6) == 0, r.nextInt(5000), r.nextInt(5), r.nextInt(6) == 0,
                pick(r, 0, 1, 1, 2)));
      }
      b.peers(peers);
    }
    return b.build();
  }

  @SafeVarargs
  private static <T> T pick(Random r, T... choices) {
    return choices[r.nextInt(choices.length)];
  }

  // --------------------------------------------------------------------------------------------------------------
  // The checker itself must catch what it claims to catch
  // --------------------------------------------------------------------------------------------------------------

  /**
   * Failsafe's timing argument (see {@link Failsafe}), through the real rules: the primary pg2 sends a round at
   * {@code s} (its clock), the listed replica pg1 receives it {@code d >= 0} ms later on a clock with another origin,
   * ZooKeeper shows no leader to pg1 and its peers make it the healthiest. Whatever s, d, ttl and clock offset: the
   * guard's deadline on pg2 (the latest its postgres may write) comes before pg1's first AcquireLeader, and pg2's own
   * fence has given up keeping it by then; once the lease ends pg1 does race (so the check can fail).
   */
  @Test
  void failsafeCoverEndsBeforeAnyLeaseEnds() {
    Random r = new Random(MASTER_SEED);
    NodeSettings pg1 = new NodeSettings("pg1", false, 1, false, false, null, true, true);
    for (int i = 0; i < 5_000; i++) {
      int ttl = pick(r, 5, 10, 20, 30);
      DynamicConfig cfg = DynamicConfigJson.parse(JSON.createObjectNode().put("ttl", ttl).put("failsafe_mode", true));
      long ttlMs = ttl * 1000L;
      long sent = 1_000_000 + r.nextInt(100_000); // pg2's clock is the true time here
      long offset = r.nextInt(1_000_000) - 500_000; // pg1's clock = true time + offset
      long delay = r.nextInt(3) == 0 ? 0 : r.nextInt(3000);
      long receivedTrue = sent + delay;
      LocalState primary = LocalState.builder("pg2").pg(PgRunState.RUNNING).inRecovery(false)
          .dataDir(DataDirState.PRIMARY).sysid(SYSID).dcsConnected(false).lockConfirmedAtMs(sent - r.nextInt(60_000))
          .sessionTtlMs(ttlMs).failsafeUntilMs(sent + ttlMs).build();
      long guardDeadline = sent + io.pgha.guard.FencingGuard.remainingMs(new io.pgha.guard.FencingGuard.Situation(
          false, false, 1, false, false, primary.lockConfirmedAtMs(), ttlMs, primary.failsafeUntilMs()), sent);
      Decision atDeadline = HaCore.decide(null, primary, cfg, pg1, guardDeadline);
      assertThat(atDeadline.action()).as("pg2's own fence at the guard's deadline").isInstanceOf(Action.Stop.class);
      assertThat(guardDeadline + ((Action.Stop) atDeadline.action()).escalateAfterMs() - 1)
          .as("pg2's forced stop comes before the guard's").isLessThanOrEqualTo(guardDeadline);

      LocalState replica = LocalState.builder("pg1").pg(PgRunState.RUNNING).inRecovery(true)
          .dataDir(DataDirState.REPLICA).sysid(SYSID).upstream("pg2").lsn(5000).timeline(1)
          .peers(Map.of("pg3", new PeerStatus("pg3", true, false, 10, 1, false, 1)))
          .failsafeLease(new Failsafe.Lease("pg2", "postgres://pg2:5432/postgres", "http://pg2:8008/patroni",
              receivedTrue + offset))
          .build();
      ClusterView noLeader = new ClusterView(null, false, Map.of(), SYSID, cfg, null, 1, 0)
          .withFailsafe(Map.of("pg1", "a", "pg2", "b", "pg3", "c"));
      for (long t : new long[] {receivedTrue, guardDeadline - 1, guardDeadline, guardDeadline + 499}) {
        Decision d = HaCore.decide(noLeader, replica, cfg, pg1, t + offset);
        assertThat(d.action()).as("pg1 at true time %d (sent %d, received %d, ttl %d)", t, sent, receivedTrue, ttl)
            .isNotInstanceOf(Action.AcquireLeader.class);
      }
      assertThat(guardDeadline).isLessThan(receivedTrue + ttlMs);
      Decision after = HaCore.decide(noLeader, replica, cfg, pg1, receivedTrue + ttlMs + offset);
      assertThat(after.action()).as("pg1 once its lease ended").isInstanceOf(Action.AcquireLeader.class);
    }
  }

  @Test
  void checkerRejectsUnsafeDecisions() {
    NodeSettings me = new NodeSettings("pg1", false, 1, false, false, null, true, true);
    DynamicConfig cfg = DynamicConfig.defaults();
    ClusterView ledByPg2 = new ClusterView("pg2", false, Map.of(), SYSID, cfg, null, 1, 0);
    LocalState replica = LocalState.builder("pg1").pg(PgRunState.RUNNING).inRecovery(true)
        .dataDir(DataDirState.REPLICA).sysid(SYSID).build();
    Case c = new Case(1, ledByPg2, replica, cfg, me, 1_000_000);

    assertThat(check(c, Decision.of(new Action.Promote(), Reason.PROMOTE_HAD_LOCK))).isNotEmpty();
    assertThat(check(c, Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK))).isNotEmpty();
    assertThat(check(c, Decision.of(new Action.Follow("pg1"), Reason.CHANGE_UPSTREAM, "pg1"))).isNotEmpty();
    assertThat(check(c, Decision.of(new Action.Follow("pg2"), Reason.CHANGE_UPSTREAM, "pg2"))).isEmpty();

    LocalState primaryCutOff = replica.toBuilder().inRecovery(false).dcsConnected(false).lockConfirmedAtMs(900_000)
        .build();
    Case fenced = new Case(2, ledByPg2, primaryCutOff, cfg, me, 1_000_000);
    assertThat(check(fenced, Decision.of(new Action.None(), Reason.DCS_UNREACHABLE))).isNotEmpty();

    ClusterView noLeader = new ClusterView(null, false, Map.of(), SYSID, cfg, null, 1, 0);
    LocalState leased = replica.toBuilder().failsafeLease(new Failsafe.Lease("pg2", null, null, 990_000)).build();
    assertThat(check(new Case(4, noLeader, leased, cfg, me, 1_000_000),
        Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK))).isNotEmpty();
    assertThat(check(new Case(5, noLeader.withFailsafe(Map.of("pg2", "x")), replica, cfg, me, 1_000_000),
        Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK))).isNotEmpty();
    assertThat(check(new Case(6, noLeader, replica, cfg, me, 1_000_000),
        Decision.of(new Action.AcquireLeader(), Reason.ACQUIRE_LOCK))).isEmpty();
    LocalState partial = primaryCutOff.toBuilder().failsafeUntilMs(1_005_000).failsafeRoundFailed(true).build();
    assertThat(check(new Case(7, ledByPg2, partial, failsafeOn(), me, 1_000_000),
        Decision.of(new Action.None(), Reason.FAILSAFE_KEEP_PRIMARY))).isNotEmpty();
    assertThat(check(new Case(8, ledByPg2, partial.toBuilder().failsafeRoundFailed(false).build(), failsafeOn(), me,
        1_000_000), Decision.of(new Action.None(), Reason.FAILSAFE_KEEP_PRIMARY))).isEmpty();

    LocalState busy = replica.toBuilder().task(Task.CLONE).build();
    assertThat(check(new Case(3, ledByPg2, busy, cfg, me, 1_000_000),
        Decision.of(new Action.StartReplica("pg2"), Reason.START_AS_SECONDARY))).isNotEmpty();
  }

  private static DynamicConfig failsafeOn() {
    return DynamicConfigJson.parse(JSON.createObjectNode().put("failsafe_mode", true));
  }

  @Test
  void generatorIsReproducible() {
    for (long seed = 0; seed < 50; seed++) {
      assertThat(generate(seed).toString()).isEqualTo(generate(seed).toString());
    }
    // and it covers situations from both ends of the table
    Set<DataDirState> dirs = EnumSet.noneOf(DataDirState.class);
    int lost = 0;
    for (long seed = 0; seed < 2000; seed++) {
      Case c = generate(seed);
      dirs.add(c.local().dataDir());
      if (c.dcsLost()) lost++;
    }
    assertThat(dirs).containsExactlyInAnyOrder(DataDirState.values());
    assertThat(lost).isBetween(200, 1000);
  }

  // --------------------------------------------------------------------------------------------------------------
  // Quorum commit (§4.7): no promotion that could lose an acknowledged commit
  // --------------------------------------------------------------------------------------------------------------

  /** One random quorum-mode world: a safe (numsync, ssn, quorum, voters), a commit at LSN 1000 acknowledged by it. */
  record QuorumWorld(long seed, ClusterView view, LocalState local, DynamicConfig cfg, NodeSettings me,
      long committedLsn) {}

  private static final String[] QUORUM_NAMES = {"pg1", "pg2", "pg3", "pg4", "pg5"};

  /**
   * Property over random states: pg1 (a replica, the old primary's key gone) decides with its peers' answers; when
   * it takes the leader key its LSN holds the last acknowledged commit. The commit was acknowledged by the old
   * primary and any numsync members of ssn, the sync key (quorum, voters) meets every such set (QuorumResolver's
   * invariant), peers are unreachable, nofailover or of any failover_priority at random, anyone may be ahead. No
   * failover key: a named candidate is the operator's choice, as in Patroni.
   */
  @Test
  void quorumModeNeverPromotesWithoutEveryAcknowledgedCommit() {
    int promotions = 0;
    int promotionsByNonVoter = 0;
    Random master = new Random(MASTER_SEED ^ 0x0_4A_0E0L);
    for (int i = 0; i < Math.min(ROUNDS, 200_000); i++) {
      QuorumWorld w = quorumWorld(master.nextLong(), "quorum");
      if (w == null) continue;
      Decision d = HaCore.decide(w.view(), w.local(), w.cfg(), w.me(), 1_000_000);
      if (d.action() instanceof Action.AcquireLeader) {
        promotions++;
        if (!w.view().sync().lists("pg1")) promotionsByNonVoter++;
        assertThat(w.local().lsn()).as("pg1 took the key without the acknowledged commit: %s %s", d, w)
            .isGreaterThanOrEqualTo(w.committedLsn());
      }
    }
    assertThat(promotions).as("promotions (the property is not vacuous)").isGreaterThan(1_000);
    assertThat(promotionsByNonVoter).as("promotions by a member outside the voters").isGreaterThan(10);
  }

  /**
   * The IT's cluster in the core: pg1 was primary with ANY 1 (pg2,pg3) and sync {pg1, quorum 1, pg2,pg3}. pg2 takes
   * over only when it hears pg3 and pg3 is not ahead; alone it waits (pg3 may hold the last commit); pg1 back as a
   * replica needs no votes.
   */
  @Test
  void quorumVotesInTheThreeMemberCase() {
    DynamicConfig cfg = DynamicConfigJson.parse(JSON.createObjectNode().put("synchronous_mode", "quorum"));
    SyncState sync = new SyncState("pg1", Set.of("pg2", "pg3"), 1, 5);
    Map<String, MemberRecord> members = new TreeMap<>();
    for (String n : List.of("pg2", "pg3")) {
      members.put(n, new MemberRecord(n, "postgres://" + n + ":5432/postgres", "http://" + n + ":8008/patroni",
          "streaming", "replica", 900L, 1, false, null, false, false, null, false, false, null));
    }
    ClusterView view = new ClusterView(null, false, Map.copyOf(members), SYSID, cfg, null, 1, 0, null, sync);
    NodeSettings pg2 = new NodeSettings("pg2", false, 1, false, false, null, true, false);
    java.util.function.BiFunction<Long, PeerStatus, Decision> decide = (myLsn, peer) -> HaCore.decide(view,
        LocalState.builder("pg2").dataDir(DataDirState.REPLICA).cleanShutdown(true).sysid(SYSID)
            .pg(PgRunState.RUNNING).inRecovery(true).lsn(myLsn).timeline(1).dcsConnected(true).sessionTtlMs(30_000L)
            .peers(Map.of("pg3", peer)).build(), cfg, pg2, 1_000_000);
    assertThat(decide.apply(900L, new PeerStatus("pg3", true, false, 800, 1, false, 1)).action())
        .isInstanceOf(Action.AcquireLeader.class);
    assertThat(decide.apply(900L, new PeerStatus("pg3", true, false, 900, 1, false, 1)).action())
        .isInstanceOf(Action.AcquireLeader.class);
    assertThat(decide.apply(900L, PeerStatus.unreachable("pg3")).reason()).isEqualTo(Reason.NOT_HEALTHIEST);
    assertThat(decide.apply(900L, new PeerStatus("pg3", true, false, 950, 1, false, 1)).reason())
        .isEqualTo(Reason.NOT_HEALTHIEST);
    // a nofailover voter gives no vote (Patroni's failover_limitation)
    assertThat(decide.apply(900L, new PeerStatus("pg3", true, false, 800, 1, true, 1)).reason())
        .isEqualTo(Reason.NOT_HEALTHIEST);
    // with quorum 0 (ANY 2: every standby has every commit) pg2 needs nobody
    ClusterView allSync = new ClusterView(null, false, Map.copyOf(members), SYSID, cfg, null, 1, 0, null,
        new SyncState("pg1", Set.of("pg2", "pg3"), 0, 5));
    assertThat(HaCore.decide(allSync, LocalState.builder("pg2").dataDir(DataDirState.REPLICA).cleanShutdown(true)
        .sysid(SYSID).pg(PgRunState.RUNNING).inRecovery(true).lsn(900).timeline(1).dcsConnected(true)
        .sessionTtlMs(30_000L).peers(Map.of("pg3", PeerStatus.unreachable("pg3"))).build(), cfg, pg2, 1_000_000)
        .action()).isInstanceOf(Action.AcquireLeader.class);
  }

  /** The checker catches what it claims: the same worlds without the votes (mode on's rules) do lose commits. */
  @Test
  void withoutQuorumVotesTheSameWorldsLoseCommits() {
    int lost = 0;
    Random master = new Random(MASTER_SEED ^ 0x0_4A_0E0L);
    for (int i = 0; i < 20_000; i++) {
      QuorumWorld w = quorumWorld(master.nextLong(), "off");
      if (w == null) continue;
      Decision d = HaCore.decide(w.view(), w.local(), w.cfg(), w.me(), 1_000_000);
      if (d.action() instanceof Action.AcquireLeader && w.local().lsn() < w.committedLsn()) lost++;
    }
    assertThat(lost).isGreaterThan(10);
  }

  static QuorumWorld quorumWorld(long seed, String mode) {
    Random r = new Random(seed);
    String me = "pg1";
    String oldLeader = r.nextInt(6) == 0 ? me : pick(r, "pg2", "pg3", "pg4", "pg5");
    List<String> standbys = new ArrayList<>();
    for (String n : QUORUM_NAMES) if (!n.equals(oldLeader)) standbys.add(n);
    Set<String> ssn = new java.util.TreeSet<>();
    for (String n : standbys) if (r.nextInt(3) != 0) ssn.add(n);
    if (ssn.isEmpty()) return null;
    int numsync = 1 + r.nextInt(ssn.size());
    Set<String> voters = new java.util.TreeSet<>(ssn);
    if (r.nextInt(4) == 0) voters.remove(pick(r, ssn.toArray(new String[0]))); // mid-transition shapes
    if (r.nextInt(4) == 0) voters.add(pick(r, standbys.toArray(new String[0])));
    if (voters.isEmpty()) return null;
    int quorum = r.nextInt(voters.size());
    QuorumResolver.State state = new QuorumResolver.State(oldLeader, quorum, voters, numsync, ssn, numsync,
        Set.of(), 1, oldLeader);
    if (!QuorumResolverTest.overlaps(state)) return null; // the primary keeps the invariant (QuorumResolverTest)
    long committed = 1000;
    // who has the commit: the old primary and numsync of ssn, maybe more
    List<String> shuffled = new ArrayList<>(ssn);
    java.util.Collections.shuffle(shuffled, r);
    Set<String> acked = new java.util.TreeSet<>(shuffled.subList(0, numsync));
    Map<String, Long> lsn = new TreeMap<>();
    for (String n : QUORUM_NAMES) {
      boolean has = n.equals(oldLeader) || acked.contains(n) || r.nextInt(4) == 0;
      lsn.put(n, has ? committed + r.nextInt(3) * 100L : 1 + r.nextInt((int) committed - 1));
      if (!has && r.nextInt(5) == 0) lsn.put(n, committed - 1); // just short of it
    }
    Map<String, MemberRecord> members = new TreeMap<>();
    Map<String, PeerStatus> peers = new LinkedHashMap<>();
    for (String n : QUORUM_NAMES) {
      boolean gone = n.equals(oldLeader) ? r.nextInt(3) != 0 : r.nextInt(4) == 0;
      if (n.equals(me)) gone = false;
      if (gone) continue;
      boolean nofailover = !n.equals(me) && r.nextInt(8) == 0;
      int priority = pick(r, 1, 1, 1, 2, 0);
      members.put(n, new MemberRecord(n, "postgres://" + n + ":5432/postgres", "http://" + n + ":8008/patroni",
          "streaming", "replica", lsn.get(n), 1, nofailover, priority, false, false, null, false, false, null));
      if (!n.equals(me)) {
        peers.put(n, r.nextInt(5) == 0 ? PeerStatus.unreachable(n)
            : new PeerStatus(n, true, false, lsn.get(n), 1, nofailover, priority));
      }
    }
    ObjectNode raw = JSON.createObjectNode();
    raw.put("synchronous_mode", mode);
    raw.put("maximum_lag_on_failover", 1 << 30);
    DynamicConfig cfg = DynamicConfigJson.parse(raw);
    ClusterView view = new ClusterView(null, false, Map.copyOf(members), SYSID, cfg, null, 1, 0, null,
        new SyncState(oldLeader, voters, quorum, 3));
    LocalState local = LocalState.builder(me).dataDir(DataDirState.REPLICA).cleanShutdown(true).sysid(SYSID)
        .pg(PgRunState.RUNNING).inRecovery(true).upstream(null).lsn(lsn.get(me)).timeline(1).dcsConnected(true)
        .sessionTtlMs(30_000L).peers(peers).build();
    NodeSettings settings = new NodeSettings(me, false, pick(r, 1, 1, 2, 0), false, false, null, true, false);
    return new QuorumWorld(seed, view, local, cfg, settings, committed);
  }
}
