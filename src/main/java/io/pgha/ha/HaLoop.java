package io.pgha.ha;

import io.pgha.config.DynamicConfigJson;
import io.pgha.model.NodeStatus;
import io.pgha.config.DynamicConfig;
import io.pgha.config.PghaConfig;
import io.pgha.config.PostgresqlConfig;
import io.pgha.dcs.DcsHealth;
import io.pgha.dcs.SessionTimeouts;
import io.pgha.decision.ClusterView;
import io.pgha.decision.Decision;
import io.pgha.decision.HaCore;
import io.pgha.decision.Switchover;
import io.pgha.decision.TaskFailure;
import io.pgha.decision.ViewChange;
import io.pgha.decision.LocalState;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.NodeSettings;
import io.pgha.decision.PgRunState;
import io.pgha.decision.Reason;
import io.pgha.decision.ReinitRequest;
import io.pgha.decision.RestartRequest;
import io.pgha.decision.Task;
import io.pgha.guard.FencingGuard;
import io.pgha.ha.port.Clock;
import io.pgha.ha.port.ConfigFile;
import io.pgha.ha.port.Dcs;
import io.pgha.ha.port.Fence;
import io.pgha.ha.port.Hooks;
import io.pgha.ha.port.OperationReply;
import io.pgha.ha.port.Peers;
import io.pgha.ha.port.Ports;
import io.pgha.ha.port.Postgres;
import io.pgha.ha.port.Reporter;
import io.pgha.postgres.PostmasterEvent;
import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.UnaryOperator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HA loop as a plain driver: runs {@link HaCore#decide} on every relevant input (a new view of the cluster, a
 * change of the ZooKeeper session, a postmaster exit, the end of a task) and every loop_wait, logs one line per
 * decision with its reason, and hands the action to the {@link ActionExecutor}, whose outcomes come back as inputs.
 * All loop state is one immutable {@link LoopState}; everything runs on the loop's thread (the ports complete their
 * stages there), so the driver is single-threaded and deterministic. Nothing here knows Vert.x.
 */
public final class HaLoop {
  static final Logger LOG = LoggerFactory.getLogger("pgha.ha");

  /** @param timelineCheck check a running replica's timeline against the leader's history (§3.13, issue 9) */
  /**
   * @param timelineCheck the running-replica timeline check
   * @param zookeeperTickMs the ensemble's tickTime, learned once at start-up (off the event loop) by the caller: the
   *     session asked for is {@link SessionTimeouts#requestMs ttl − 2 ticks}
   */
  public record Options(boolean timelineCheck, int zookeeperTickMs) {
    public Options(boolean timelineCheck) {
      this(timelineCheck, SessionTimeouts.TICK_TIME_DEFAULT_MS);
    }

    public static Options defaults() {
      return new Options(true);
    }

    public Options withZookeeperTickMs(int tickMs) {
      return new Options(timelineCheck, tickMs);
    }
  }

  final Clock clock;
  final Dcs dcs;
  final Postgres pg;
  final Peers peers;
  final Fence fence;
  final Reporter reporter;
  final Hooks hooks;
  final ConfigFile configFile;
  final Options options;
  final Callbacks callbacks;
  final SynchronousReplication synchronous;
  final PendingRestart pendingRestart;
  final ActionExecutor executor;
  final GracefulDemotion demotion;
  final LeaderDuties duties;
  final LoopOperations operations;
  final TimelineWatch timelineWatch;
  final ClusterConfig clusterConfig;
  final HeartbeatTimer heartbeat;
  final LocalRefresh localRefresh;
  final FailsafeDuties failsafe;
  private final DynamicConfig bootstrapDynamic;
  private final CompletableFuture<Void> stopped = new CompletableFuture<>();
  private LoopState state;

  public HaLoop(PghaConfig config, Ports ports, Options options) {
    this.clock = ports.clock();
    this.dcs = ports.dcs();
    this.pg = ports.postgres();
    this.peers = ports.peers();
    this.fence = ports.fence();
    this.reporter = ports.reporter();
    this.hooks = ports.hooks();
    this.configFile = ports.configFile();
    this.options = options;
    this.bootstrapDynamic = DynamicConfigJson.parse(config.bootstrap().dcs());
    this.callbacks = new Callbacks(hooks::fire);
    this.state = LoopState.initial(config, null, LocalState.builder(config.name()).build());
    this.state = state.toBuilder().settings(settingsOf(config)).build();
    this.synchronous = new SynchronousReplication(this);
    this.pendingRestart = new PendingRestart(this);
    this.executor = new ActionExecutor(this);
    this.demotion = new GracefulDemotion(this);
    this.duties = new LeaderDuties(this);
    this.operations = new LoopOperations(this);
    this.timelineWatch = new TimelineWatch(this);
    this.clusterConfig = new ClusterConfig(this);
    this.heartbeat = new HeartbeatTimer(this);
    this.localRefresh = new LocalRefresh(this);
    this.failsafe = new FailsafeDuties(this);
  }

  // ---- the state ----

  /** The loop's state now (for the simulation's checkers and tests). */
  public LoopState state() {
    return state;
  }

  void update(UnaryOperator<LoopState.Builder> change) {
    state = change.apply(state.toBuilder()).build();
  }

  LocalState local() { return state.local(); }
  void local(LocalState local) { update(b -> b.local(local)); }
  ClusterView view() { return state.view(); }
  void view(ClusterView view) { update(b -> b.view(view)); }
  PghaConfig config() { return state.config(); }
  NodeSettings settings() { return state.settings(); }
  String me() { return state.config().name(); }
  long cycle() { return state.cycle(); }

  DynamicConfig dynamic() {
    return state.lastValidConfig() != null ? state.lastValidConfig() : bootstrapDynamic;
  }

  NodeSettings settingsOf(PghaConfig c) {
    var tags = c.tags();
    PostgresqlConfig pgc = c.postgresql();
    boolean rewind = pgc.usePgRewind() != null ? pgc.usePgRewind() : bootstrapDynamic.usePgRewind();
    // Patroni: watchdog required but unusable => never lead (peers see watchdog_failed and skip the member)
    boolean nofailover = tags.nofailover() || fence.watchdogFailed();
    return new NodeSettings(c.name(), nofailover, tags.effectiveFailoverPriority(), tags.clonefrom(),
        tags.nostream(), tags.replicatefrom(), c.bootstrap().present(), rewind, pgc.removeDataDirectoryOnRewindFailure(),
        pgc.removeDataDirectoryOnDivergedTimelines());
  }

  // ---- start ----

  /** Refuses a duplicate name, adopts a running postmaster, then runs the first cycle and starts the timers. */
  public CompletionStage<Void> start() {
    view(dcs.view());
    clusterConfig.take(view());
    long askedMs = SessionTimeouts.requestMs(bootstrapDynamic, options.zookeeperTickMs());
    return refuseDuplicateName()
        .thenCompose(v -> pg.adoptRunning())
        .thenApply(adopted -> {
          if (adopted) local(local().toBuilder().pg(PgRunState.STARTING).build());
          long negotiated = dcs.negotiatedSessionTimeoutMs();
          if (negotiated > 0 && negotiated != askedMs) {
            LOG.warn("zookeeper granted a session timeout of {} ms instead of the {} ms asked for (ttl {} s): the"
                + " fence and the guard follow the granted one", negotiated, askedMs, bootstrapDynamic.ttlSeconds());
          }
          fence.start();
          scheduleLoop();
          runCycle("start");
          warmUpProber();
          return null;
        });
  }

  /** §3.1: a second agent with the same name must not run; a stale key whose agent does not answer is ignored. */
  private CompletableFuture<Void> refuseDuplicateName() {
    return Async.of(dcs.existingMemberApiUrl(me())).thenCompose(apiUrl -> {
      if (apiUrl == null) return Async.done();
      return Async.of(peers.answers(apiUrl)).thenCompose(alive -> alive
          ? Async.failed("there is already a member named " + me() + " running (" + apiUrl + ")")
          : Async.done());
    });
  }

  /**
   * The first HTTP request of a JVM costs a few hundred milliseconds (class loading, JIT); pay it now rather than in
   * the first leader race.
   */
  private void warmUpProber() {
    if (view() == null) return;
    peers.probe(view().members().values().stream().filter(m -> !m.name().equals(me())).toList());
  }

  void scheduleLoop() {
    if (state.loopTimer() != null) state.loopTimer().cancel();
    long periodMs = dynamic().loopWaitSeconds() * 1000L;
    Clock.Timer timer = clock.after(periodMs, () -> {
      update(b -> b.loopTimer(null));
      runCycle("loop_wait");
      scheduleLoop();
    });
    update(b -> b.nextLoopDueEpochMs(clock.wallMs() + periodMs).loopTimer(timer));
  }

  // ---- inputs ----

  /** A new view of the cluster (every watch event). */
  public void onView(ClusterView incoming) {
    ClusterView newView = ViewChange.seen(incoming, state.keyReleased());
    ClusterView old = view();
    view(newView);
    clusterConfig.take(newView);
    long nowMs = clock.wallMs();
    reporter.viewSeen(newView);
    if (old != null && newView.hasLeader() && !Objects.equals(old.leader(), newView.leader())) {
      reporter.leaderChanged(nowMs);
    }
    if (!newView.hasLeader() && old != null && old.hasLeader()) {
      LOG.info("leader key {} is gone", old.leader());
      update(b -> b.leaderLostAtMs(nowMs));
    }
    if (newView.failover() != null && (old == null || old.failover() == null)) {
      Long at = newView.failover().scheduledAtEpochMs();
      update(b -> b.switchoverRequestedAtMs(at == null ? nowMs : Math.max(nowMs, at)));
    }
    if (old != null && old.leaderIsMe() && !newView.leaderIsMe()) update(b -> b.lastSlots(null));
    if (newView.failover() != null && !Objects.equals(old == null ? null : old.failover(), newView.failover())
        && me().equals(newView.failover().candidate()) && !newView.leaderIsMe()) {
      duties.slotsBeforeTakeover("switchover candidate");
    }
    // a new leader (or none) makes probe results stale, and lets a diverged replica whose pg_rewind failed try again
    local(ViewChange.localAfter(old, newView, local()));
    String trigger = ViewChange.trigger(old, newView);
    if (trigger != null) runCycle(trigger);
    heartbeat.ensure();
    synchronous.checkSyncLeave(); // leaving the sync set waits for this very event: the sync key's watch
  }

  /** The ZooKeeper session changed (connected, suspended, lost, reconnected). */
  public void onHealth(DcsHealth h) {
    DcsHealth before = state.health();
    boolean wasConnected = before != null && before.connected();
    reporter.zookeeperConnected(h.connected());
    if (h.connected() && !wasConnected && state.everConnected()) reporter.zookeeperReconnect();
    update(b -> b.everConnected(state.everConnected() || h.connected()).health(h));
    String trigger = ViewChange.healthTrigger(wasConnected, h.connected());
    if (trigger != null) runCycle(trigger);
  }

  /** The postmaster started, was adopted, or exited. */
  public void onPostmaster(PostmasterEvent e) {
    if (e.alive()) {
      // a primary (re)started while we hold the key is guarded from its first moment, not from the next cycle or
      // key confirmation: an agent that freezes right after spawning it would otherwise leave it unguarded
      // (simulation, seed 35 with a 1 s heartbeat: a failed switchover's restart as primary, then a frozen agent)
      if (startingAsPrimary) updateGuard("postmaster started as primary", true);
      return;
    }
    if (!pg.postmasterAlive()) fence.disarm("postgres stopped");
    boolean crash = !e.expected();
    // a stopped postgres needs no failsafe cover: whatever started next starts without one
    LocalState.Builder b = local().toBuilder().pg(PgRunState.STOPPED).failsafeUntilMs(0).failsafeRoundFailed(false);
    if (crash) b.crashed(true).pgDownSinceMs(clock.monotonicMs());
    LocalState next = b.build();
    update(s -> s.local(next).pgStatus(null));
    publishStatus();
    if (crash) runCycle("postmaster exited");
  }

  /** A cycle now (the REST API recorded a request). */
  public void wake(String trigger) {
    runCycle(trigger);
  }

  public CompletionStage<OperationReply> restart(RestartRequest request) {
    return operations.restart(request);
  }

  public CompletionStage<OperationReply> reinitialize(ReinitRequest request) {
    return operations.reinitialize(request);
  }

  public CompletionStage<OperationReply> reload() {
    return operations.reload();
  }

  /** {@code POST /failsafe} from the primary {@code name} (§10.2): the answer, with our WAL position. */
  public FailsafeDuties.Reply failsafePost(String name, String connUrl, String apiUrl) {
    return failsafe.received(name, connUrl, apiUrl);
  }

  // ---- the cycle ----

  void runCycle(String trigger) {
    if (local().shuttingDown()) return;
    if (state.cycleRunning()) {
      update(b -> b.rerunRequested(true));
      return;
    }
    update(b -> b.cycleRunning(true));
    long cycleStartNanos = System.nanoTime();
    localRefresh.refresh().thenCompose(v -> failsafe.roundIfWanted()).thenCompose(v -> {
      if (options.timelineCheck()) timelineWatch.check(trigger);
      update(b -> b.cycle(state.cycle() + 1));
      Decision d = HaCore.decide(view(), local(), dynamic(), settings(), clock.monotonicMs());
      logDecision(d, trigger);
      reporter.decision(d.reason().name());
      if (d.reason() == Reason.SWITCHOVER_AWAIT) wakeAtScheduledTime();
      return executor.execute(d).thenCompose(x -> duties.performDuties(d)).thenCompose(x -> executor.applyConfig());
    }).whenComplete((v, e) -> {
      if (e != null) LOG.error("ha.cycle cycle={} failed: {}", cycle(), Async.message(e));
      reporter.haCycle(Duration.ofNanos(System.nanoTime() - cycleStartNanos));
      publishMember();
      publishStatus();
      heartbeat.ensure();
      updateGuard("cycle " + cycle());
      fence.countFires("by an earlier agent's guard");
      update(b -> b.cycleRunning(false));
      if (state.rerunRequested()) {
        update(b -> b.rerunRequested(false));
        runCycle("rerun");
      }
    });
  }

  /** A scheduled switchover may fall due between two loop_wait cycles: wake up for it. */
  private void wakeAtScheduledTime() {
    long inMs = Switchover.wakeInMs(view() == null ? null : view().failover(), clock.wallMs(),
        dynamic().loopWaitSeconds() * 1000L);
    if (inMs > 0) clock.after(inMs, () -> runCycle("scheduled"));
  }


  /** Runs the next cycle right after this one. */
  void again() {
    update(b -> b.rerunRequested(true));
  }

  private void logDecision(Decision d, String trigger) {
    String action = d.action().getClass().getSimpleName();
    String role = MemberState.role(local(), MemberState.standbyLeader(view(), dynamic()));
    String line = "role=" + role + " action=" + action + " reason=" + d.reason() + " msg=\""
        + d.message() + "\"";
    // Repeating "no action" lines every loop_wait are logged once per change of situation, then at debug level.
    boolean quiet = d.action() instanceof io.pgha.decision.Action.None && line.equals(state.lastDecisionLine());
    update(b -> b.lastDecisionLine(line));
    String full = "ha.decision cycle=" + cycle() + " " + line + " trigger=" + trigger + " leader="
        + (view() == null ? "?" : view().leader()) + " lsn=" + local().lsn() + " tl=" + local().timeline();
    boolean stuck = d.reason() == Reason.DIVERGED_CANNOT_FOLLOW || d.reason() == Reason.DIVERGED_REWIND_FAILED;
    if (quiet) LOG.debug(full);
    else if (stuck) LOG.error(full);
    else LOG.info(full);
    reporter.decided(full);
  }

  // ---- tasks ----

  /** Runs a long operation as the task in flight; its end triggers the next cycle at once. */
  CompletableFuture<Void> runTask(Task task, CompletionStage<Void> work) {
    local(local().toBuilder().task(task).build());
    if (task == Task.PROMOTE) updateGuard("promoting");
    publishStatus();
    work.whenComplete((v, e) -> {
      local(local().toBuilder().task(null).build());
      if (e != null) {
        String error = Async.message(e);
        LOG.error("{} failed: {}", task.text(), error);
        Decision next = TaskFailure.after(task, error);
        if (next.action() instanceof io.pgha.decision.Action.CancelBootstrap) {
          executor.cancelBootstrap(error);
          return;
        }
        if (!TaskFailure.cycleNow(next)) return; // a failed start: the next loop_wait, not a tight loop
      } else {
        LOG.info("{} finished", task.text());
      }
      runCycle(task.text() + " finished");
    });
    return Async.done();
  }

  /**
   * Every stop of postgres by the agent (shutdown, demotion, restart, fencing, reinitialize): {@code before_stop}
   * first, when a postmaster runs, as Patroni runs it right before the stop signal. It is waited for, bounded (ttl/2;
   * at most loop_wait before an immediate stop; at most half of the stop's own escalation deadline, so that a fencing
   * stop still ends before the session can expire); its failure is logged and the stop goes on.
   */
  CompletableFuture<Void> stopPostgres(io.pgha.decision.Action.StopMode mode, long escalateAfterMs) {
    if (!pg.postmasterAlive()) return Async.of(pg.stop(mode, escalateAfterMs));
    long limitMs = beforeStopLimitMs(mode, escalateAfterMs, dynamic());
    long startedMs = clock.monotonicMs();
    return Async.of(hooks.beforeStop(limitMs))
        .exceptionally(e -> {
          LOG.warn("before_stop: {}", Async.message(e));
          return null;
        })
        // the escalation deadline counts from the decision, not from the end of the hook
        .thenCompose(v -> pg.stop(mode, escalateAfterMs <= 0 ? escalateAfterMs
            : Math.max(1, escalateAfterMs - (clock.monotonicMs() - startedMs))));
  }

  static long beforeStopLimitMs(io.pgha.decision.Action.StopMode mode, long escalateAfterMs, DynamicConfig cfg) {
    long limitMs = cfg.ttlSeconds() * 1000L / 2;
    if (mode == io.pgha.decision.Action.StopMode.IMMEDIATE) limitMs = Math.min(limitMs, cfg.loopWaitSeconds() * 1000L);
    if (escalateAfterMs > 0) limitMs = Math.min(limitMs, escalateAfterMs / 2);
    return Math.max(1, limitMs);
  }

  void fatalExit(String why) {
    reporter.fatal(why);
  }

  // ---- the fencing guard ----

  /**
   * Tells the fencing guard where we stand. Every push is measured from the last proof that we hold the key
   * (lockConfirmedAtMs), never from now, so pushing on a stale view cannot move the deadline past the session's
   * earliest expiry.
   */
  void updateGuard(String why) {
    updateGuard(why, false);
  }

  /** @param startingPrimary postgres is starting as a primary now (the last status may still say "in recovery") */
  void updateGuard(String why, boolean startingPrimary) {
    DcsHealth h = dcs.health();
    long ttlMs = dynamic().ttlSeconds() * 1000L;
    long sessionMs = h.negotiatedTimeoutMs() > 0 ? Math.min(h.negotiatedTimeoutMs(), ttlMs) : ttlMs;
    boolean holdsKey = view() != null && view().leaderIsMe() && !state.keyReleased();
    long pid = pg.postmasterAlive() ? pg.postmasterPid() : 0;
    Boolean inRecovery = startingPrimary ? Boolean.FALSE : local().inRecovery();
    fence.update(new FencingGuard.Situation(dynamic().pause(), holdsKey, pid, inRecovery,
        local().task() == Task.PROMOTE, h.lockConfirmedAtMs(), sessionMs, local().failsafeUntilMs()), why);
  }

  /** Whether the start in flight is a start as primary (no recovery settings); see {@link #onPostmaster}. */
  private boolean startingAsPrimary;

  /** Every start of postgres goes through here: {@code recovery} null starts a primary. */
  CompletionStage<Boolean> startPostgres(Postgres.Recovery recovery) {
    startingAsPrimary = recovery == null;
    return pg.start(parameters(), recovery).whenComplete((ready, e) -> startingAsPrimary = false);
  }

  // ---- addresses and parameters ----

  Postgres.Recovery recoveryFor(String upstream) {
    var standby = dynamic().standbyCluster();
    if (standby != null && upstream != null && upstream.equals(standby.upstream())) {
      // §10.3: the standby leader follows the remote primary, with the standby_cluster section's settings
      String slot = dynamic().useSlots() ? standby.primarySlotName() : null;
      return new Postgres.Recovery(standby.host(), standby.effectivePort(), slot, standby.restoreCommand(),
          standby.archiveCleanupCommand(), standby.recoveryMinApplyDelay());
    }
    var hp = upstream == null ? null : memberAddress(upstream);
    String slot = hp != null && dynamic().useSlots() ? io.pgha.postgres.SlotNames.forMember(me()) : null;
    // in a standby cluster the members cascading from the standby leader may also restore WAL (Patroni does so)
    String restore = standby == null ? null : standby.restoreCommand();
    String cleanup = standby == null ? null : standby.archiveCleanupCommand();
    if (hp == null) return new Postgres.Recovery(null, 0, null, restore, cleanup, null);
    return new Postgres.Recovery(hp.host(), hp.port(), slot, restore, cleanup, null);
  }

  io.pgha.config.HostPort memberAddress(String member) {
    var standby = dynamic().standbyCluster();
    if (standby != null && standby.upstream().equals(member)) {
      return standby.host() == null ? null : new io.pgha.config.HostPort(standby.host(), standby.effectivePort());
    }
    MemberRecord m = view() == null ? null : view().members().get(member);
    if (m == null || m.connUrl() == null) return null;
    URI uri = URI.create(m.connUrl());
    return new io.pgha.config.HostPort(uri.getHost().replace("[", "").replace("]", ""),
        uri.getPort() > 0 ? uri.getPort() : 5432);
  }

  Map<String, String> parameters() {
    DynamicConfig cfg = dynamic();
    Map<String, String> params = new java.util.TreeMap<>(pg.parameters(config(), cfg));
    // §4.1: in synchronous mode pgha owns synchronous_standby_names; the user's value applies only when it is off
    String ssn = synchronous.synchronousStandbyNames(cfg);
    if (ssn != null) params.put("synchronous_standby_names", ssn);
    return params;
  }

  // ---- publishing ----

  void publishMember() {
    if (local().shuttingDown()) return;
    String json = memberJson();
    if (json.equals(state.lastMemberJson())) return;
    update(b -> b.lastMemberJson(json));
    dcs.publishMember(json);
  }

  String memberJson() {
    return SelfReport.memberJson(config(), local(), state.pgStatus(), state.checkpointPending(), dynamic().pause(),
        state.scheduledRestart() == null ? null : state.scheduledRestart().memberFields(),
        state.pendingRestartReason(), state.leavingSync(), MemberState.standbyLeader(view(), dynamic()));
  }

  void publishStatus() {
    NodeStatus s = SelfReport.nodeStatus(config(), local(), state.pgStatus(), pg.postmasterAlive(), view(),
        state.health(), dynamic(), state.nextLoopDueEpochMs(), clock.monotonicMs(), state.pendingRestartReason(),
        state.configError(), state.scheduledRestart() == null ? null : state.scheduledRestart().memberFields());
    if (fence.watchdogFailed()) s = s.withWatchdogFailed(true);
    if (s.equals(state.lastStatus())) return;
    NodeStatus published = s;
    update(b -> b.lastStatus(published));
    reporter.status(s);
  }

  // ---- shutdown ----

  /**
   * §3.17: stop postgres (fast) unless paused; a leader releases its key only after postgres is down, and writes
   * its final WAL position first, so that a replica that has it takes over at once.
   */
  public CompletionStage<Void> shutdown() {
    if (local().shuttingDown()) return stopped;
    local(local().toBuilder().shuttingDown(true).build());
    io.pgha.decision.Shutdown plan = io.pgha.decision.Shutdown.plan(dynamic().pause(),
        view() != null && view().leaderIsMe());
    LOG.info("ha.decision cycle={} action=Shutdown reason={} msg=\"{}\"", cycle(), plan.reason(), plan.message());
    if (state.loopTimer() != null) state.loopTimer().cancel();
    if (state.heartbeatTimer() != null && !plan.keepConfirming()) heartbeat.cancel();
    if (plan.disarmGuard()) fence.disarm("shutting down in pause: postgres keeps running unfenced");
    if (plan.stopPostgres()) {
      // peers racing for the key we are about to release must not see a live primary in our /patroni
      LocalState stopping = local().toBuilder().pg(PgRunState.STOPPING).build();
      update(b -> b.local(stopping).pgStatus(null));
      publishStatus();
    }
    boolean signalled = pg.postmasterAlive();
    CompletableFuture<Void> stopPg = !plan.stopPostgres() ? Async.done()
        : synchronous.leaveSynchronousSet().thenCompose(v -> stopPostgres(io.pgha.decision.Action.StopMode.FAST, 0))
            .thenRun(() -> callbacks.stopped(signalled));
    stopPg.thenCompose(v -> {
          heartbeat.cancel();
          if (!pg.postmasterAlive()) fence.disarm("postgres stopped for shutdown");
          if (!plan.releaseKey()) return Async.done();
          return Async.ignoreFailure(dcs.writeStatus(local().lsn())).thenCompose(x -> dcs.releaseLeader());
        })
        .whenComplete((v, e) -> {
          if (e != null) LOG.warn("shutdown: {}", Async.message(e));
          else if (plan.releaseKey()) LOG.info("leader key released after postgres stopped");
          fence.close();
          dcs.close();
          pg.close();
          peers.close();
          // on_stop must be running before the JVM exits; the callback itself may outlive the agent
          hooks.close().whenComplete((x, err) -> stopped.complete(null));
        });
    return stopped;
  }
}
