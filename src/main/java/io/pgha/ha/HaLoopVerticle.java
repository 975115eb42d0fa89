package io.pgha.ha;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.pgha.Version;
import io.pgha.bus.Addresses;
import io.pgha.config.DynamicConfig;
import io.pgha.config.DynamicConfigJson;
import io.pgha.config.HostPort;
import io.pgha.config.PghaConfig;
import io.pgha.config.PostgresqlConfig;
import io.pgha.dcs.DcsHealth;
import io.pgha.metrics.PghaMetrics;
import io.pgha.dcs.ZooKeeperDcs;
import io.pgha.events.EventBridge;
import io.pgha.events.Events;
import io.pgha.guard.FencingGuard;
import io.pgha.guard.GuardSettings;
import io.pgha.decision.Action;
import io.pgha.decision.ClusterView;
import io.pgha.decision.DataDirState;
import io.pgha.decision.Decision;
import io.pgha.decision.HaCore;
import io.pgha.decision.LocalState;
import io.pgha.decision.MemberRecord;
import io.pgha.decision.NodeSettings;
import io.pgha.decision.PgRunState;
import io.pgha.decision.Reason;
import io.pgha.decision.ReplicationSlots;
import io.pgha.decision.Task;
import io.pgha.decision.TimelineHistory;
import io.pgha.model.NodeStatus;
import io.pgha.postgres.CallbackRunner;
import io.pgha.postgres.ConfigFiles;
import io.pgha.postgres.Lsn;
import io.pgha.postgres.PgLocal;
import io.pgha.postgres.PgStatus;
import io.pgha.postgres.PostgresSupervisor;
import io.pgha.postgres.PostmasterEvent;
import io.pgha.postgres.SlotNames;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HA loop: runs {@link HaCore#decide} on every relevant event (a watch event from ZooKeeper, a postmaster exit,
 * the end of a task) and every loop_wait, logs one line per decision with its reason, and carries out the action
 * through the ZooKeeper and PostgreSQL layers. Only this verticle changes {@link LocalState}; everything runs on
 * its event loop, and the blocking parts are inside the supervisor's worker pool.
 */
public final class HaLoopVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.ha");
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final long STATUS_RETRY_MS = 100;
  /** How long a switchover waits for its candidate to receive the old primary's final WAL. */
  private static final long SWITCHOVER_CATCH_UP_NANOS = TimeUnit.SECONDS.toNanos(5);
  /** After a re-point, how often and how long to look for the walreceiver streaming, so /patroni says so at once. */
  private static final long STREAMING_POLL_MS = 100;
  private static final long STREAMING_WATCH_MS = 10_000;

  /** This member's configuration file as last (re)loaded; only parameters and tags change on a reload. */
  private PghaConfig config;
  private NodeSettings settings;
  private final java.util.concurrent.Callable<PghaConfig> configFile;
  private final DynamicConfig bootstrapDynamic;
  private final PghaMetrics metrics;
  private final ZooKeeperDcs dcs;
  private final PostgresSupervisor supervisor;
  private PgLocal pgLocal;
  private PeerProber prober;
  private CallbackRunner callbackRunner;
  private Callbacks callbacks;

  private LocalState local;
  private ClusterView view;
  private DcsHealth health;
  private PgStatus pgStatus;
  private boolean heartbeatFailing;
  private long cycle;
  private boolean cycleRunning;
  private boolean rerunRequested;
  private long loopTimer = -1;
  private long heartbeatTimer = -1;
  private long nextLoopDueEpochMs;
  private String lastMemberJson;
  private long lastPublishedOptime = -1;
  /** The member slots made since this member last stopped being the leader (or for the takeover it is about to). */
  /** The slots last made or checked; null: unknown, look again. */
  private Set<String> lastSlots;
  private Future<Void> slotWork = Future.succeededFuture();
  private long streamingTimer = -1;
  private long streamingWatch;
  /** Our session deleted its leader key and has not taken it again: a view that still shows it is older. */
  private boolean keyReleased;
  private String lastDecisionLine;
  private boolean checkpointPending;
  private OperationHandlers operations;
  private boolean everConnected;
  private long leaderLostAtMs;
  private long switchoverRequestedAtMs;
  private NodeStatus lastStatus;
  /** The cluster's configuration in force: the last {@code config} that parsed (§8.3). */
  private DynamicConfig lastValidConfig;
  private String configError;
  private SynchronousReplication synchronous;
  private PendingRestart pendingRestart;
  /** §4.6: this synchronous standby asked to leave the sync set (published nosync) because it is about to stop. */
  private boolean leavingSync;
  private final Promise<Void> stopped = Promise.promise();
  private final GuardSettings guardSettings;
  private GuardLink guardLink;
  /** §3.13 divergence check of a running replica against the leader's timeline history (issue 9). */
  private boolean timelineCheckRunning;
  private String lastTimelineCheckKey;
  private long lastTimelineCheckAtMs;
  private String lastTimelineCheckLeader;
  private String lastTimelineCheckError;
  /** When the walreceiver was first seen not streaming (monotonic ms), 0 while it streams. */
  private long notStreamingSinceMs;

  public HaLoopVerticle(PghaConfig config, ZooKeeperDcs dcs, PostgresSupervisor supervisor, PghaMetrics metrics,
      GuardSettings guardSettings) {
    this(config, () -> config, dcs, supervisor, metrics, guardSettings);
  }

  /** @param configFile reads this member's configuration file again, for {@code POST /reload} and SIGHUP */
  public HaLoopVerticle(PghaConfig config, java.util.concurrent.Callable<PghaConfig> configFile, ZooKeeperDcs dcs,
      PostgresSupervisor supervisor, PghaMetrics metrics, GuardSettings guardSettings) {
    this.guardSettings = guardSettings;
    this.config = config;
    this.configFile = configFile;
    this.metrics = metrics;
    this.dcs = dcs;
    this.supervisor = supervisor;
    this.bootstrapDynamic = DynamicConfigJson.parse(config.bootstrap().dcs());
    this.settings = settingsOf(config);
    this.local = LocalState.builder(config.name()).build();
  }

  private NodeSettings settingsOf(PghaConfig c) {
    var tags = c.tags();
    PostgresqlConfig pg = c.postgresql();
    boolean rewind = pg.usePgRewind() != null ? pg.usePgRewind() : bootstrapDynamic.usePgRewind();
    // Patroni: watchdog required but unusable => never lead (peers see watchdog_failed and skip the member)
    boolean nofailover = tags.nofailover() || guardLink != null && guardLink.watchdogFailed();
    return new NodeSettings(c.name(), nofailover, tags.effectiveFailoverPriority(), tags.clonefrom(),
        tags.nostream(), tags.replicatefrom(), c.bootstrap().present(), rewind, pg.removeDataDirectoryOnRewindFailure(),
        pg.removeDataDirectoryOnDivergedTimelines());
  }

  /**
   * {@code POST /reload} and SIGHUP, as in Patroni: the configuration file is read again. {@code postgresql.parameters}
   * and {@code tags} take effect at once (a reload of postgres, a new member key); any other changed section is
   * named in the log, to take effect at the agent's next start. A file that no longer parses changes nothing.
   */
  private Future<Void> reloadConfigFile() {
    return vertx.executeBlocking(configFile::call).map(fresh -> {
      PghaConfig old = config;
      Set<String> later = new TreeSet<>();
      fresh.raw().fieldNames().forEachRemaining(later::add);
      old.raw().fieldNames().forEachRemaining(later::add);
      later.removeIf(k -> Objects.equals(fresh.raw().get(k), old.raw().get(k)) || k.equals("tags"));
      if (later.remove("postgresql")) {
        com.fasterxml.jackson.databind.node.ObjectNode a = ((ObjectNode) old.raw().path("postgresql")).deepCopy();
        com.fasterxml.jackson.databind.node.ObjectNode b = fresh.raw().path("postgresql").isObject()
            ? ((ObjectNode) fresh.raw().get("postgresql")).deepCopy() : JSON.createObjectNode();
        a.remove("parameters");
        b.remove("parameters");
        if (!a.equals(b)) later.add("postgresql (other than parameters)");
      }
      config = new PghaConfig(old.scope(), old.namespace(), old.name(), old.restapi(), old.zookeeper(), old.bootstrap(),
          old.postgresql().withParameters(fresh.postgresql().parameters()), fresh.tags(), old.raw());
      settings = settingsOf(config);
      LOG.info("configuration file reloaded: parameters and tags applied{}",
          later.isEmpty() ? "" : "; changed " + later + ": they take effect when the agent restarts");
      return null;
    });
  }

  /** The session timeout to ask ZooKeeper for: ttl from the bootstrap configuration (§1.5). */
  public static int sessionTimeoutMs(PghaConfig config) {
    return DynamicConfigJson.parse(config.bootstrap().dcs()).ttlSeconds() * 1000;
  }

  /** Connection timeout per server, {@code max(1, loop_wait/2)} s as Patroni tunes it. */
  public static int connectionTimeoutMs(PghaConfig config) {
    return Math.max(1000, DynamicConfigJson.parse(config.bootstrap().dcs()).loopWaitSeconds() * 500);
  }

  @Override
  public Future<?> start() {
    dcs.observeRequests(metrics::zookeeperRequest);
    guardLink = new GuardLink(vertx, guardSettings, metrics, dynamic().ttlSeconds(), dynamic().loopWaitSeconds());
    if (guardLink.watchdogFailed()) settings = settingsOf(config);
    pgLocal = new PgLocal(vertx, config.postgresql());
    pendingRestart = new PendingRestart(vertx, pgLocal,
        () -> local.pg() == PgRunState.RUNNING && local.task() == null, () -> {
          publishMember();
          publishStatus();
        });
    synchronous = new SynchronousReplication(config.name(), dcs, pgLocal, new SynchronousReplication.Loop() {
      @Override public ClusterView view() { return view; }
      @Override public void updateView(ClusterView v) { view = v; }
      @Override public DynamicConfig config() { return dynamic(); }
      @Override public Future<Void> applyConfig() { return HaLoopVerticle.this.applyConfig(); }
      @Override public void again() { HaLoopVerticle.this.again(); }
      @Override public void runCycleLater(long delayMs, String trigger) {
        vertx.setTimer(delayMs, t -> runCycle(trigger));
      }
      @Override public long cycle() { return cycle; }
    });
    prober = new PeerProber(vertx);
    callbackRunner = new CallbackRunner(config.postgresql().callbacks(), config.scope(), CallbackRunner.DEFAULT_TIMEOUT,
        r -> {
          metrics.callback(r.action(), r.outcome().name());
          vertx.eventBus().publish(EventBridge.ADDRESS, Events.callback(r));
        });
    callbacks = new Callbacks(callbackRunner::fire);
    int ttlMs = sessionTimeoutMs(config);
    vertx.eventBus().<ClusterView>localConsumer(Addresses.DCS_CLUSTER_CHANGED, m -> onView(m.body()));
    vertx.eventBus().<DcsHealth>localConsumer(Addresses.DCS_HEALTH_CHANGED, m -> onHealth(m.body()));
    vertx.eventBus().<PostmasterEvent>localConsumer(Addresses.PG_POSTMASTER_CHANGED, m -> onPostmaster(m.body()));
    vertx.eventBus().localConsumer(Addresses.HA_WAKE, m -> runCycle("request"));
    operations = new OperationHandlers();
    vertx.eventBus().<JsonObject>localConsumer(Addresses.HA_RESTART, operations::restart);
    vertx.eventBus().<JsonObject>localConsumer(Addresses.HA_REINITIALIZE, operations::reinitialize);
    vertx.eventBus().<JsonObject>localConsumer(Addresses.HA_RELOAD, operations::reload);
    view = dcs.view();
    takeConfig(view);
    return Future.succeededFuture()
        .compose(v -> refuseDuplicateName())
        .compose(v -> supervisor.adoptRunning())
        .compose(adopted -> {
          if (adopted) local = local.toBuilder().pg(PgRunState.STARTING).build();
          long negotiated = dcs.negotiatedSessionTimeoutMs();
          if (negotiated > 0 && negotiated != ttlMs) {
            LOG.warn("zookeeper granted a session timeout of {} ms instead of ttl {} ms: using the shorter for safety",
                negotiated, ttlMs);
          }
          guardLink.start();
          scheduleLoop();
          runCycle("start");
          warmUpProber();
          return Future.succeededFuture();
        });
  }

  /** §3.1: a second agent with the same name must not run; a stale key whose agent does not answer is ignored. */
  private Future<Void> refuseDuplicateName() {
    return dcs.existingMemberApiUrl(config.name()).compose(apiUrl -> {
      if (apiUrl == null) return Future.succeededFuture();
      URI uri = URI.create(apiUrl);
      String liveness = uri.getScheme() + "://" + uri.getAuthority() + "/liveness";
      io.vertx.core.http.HttpClient http = vertx.createHttpClient();
      return http.request(new io.vertx.core.http.RequestOptions().setAbsoluteURI(liveness).setTimeout(3000))
          .compose(req -> req.send())
          .eventually(() -> http.close())
          .transform(answer -> answer.succeeded()
              ? Future.failedFuture("there is already a member named " + config.name() + " running (" + apiUrl + ")")
              : Future.succeededFuture());
    });
  }

  /**
   * The first HTTP request of a JVM costs a few hundred milliseconds (class loading, JIT); pay it now rather than in
   * the first leader race.
   */
  private void warmUpProber() {
    if (view == null) return;
    prober.probe(view.members().values().stream().filter(m -> !m.name().equals(config.name())).toList());
  }

  private DynamicConfig dynamic() {
    return lastValidConfig != null ? lastValidConfig : bootstrapDynamic;
  }

  /**
   * A new {@code config} takes effect at once; one that does not parse is ignored, loudly, and the last valid one
   * stays in force, so a typo written with zkCli cannot take the cluster down.
   */
  private void takeConfig(ClusterView newView) {
    DynamicConfig before = dynamic();
    if (newView.config() != null) lastValidConfig = newView.config();
    if (!Objects.equals(configError, newView.configError())) {
      if (newView.configError() != null) {
        LOG.error("ignoring the cluster configuration: {}; keeping the last valid one", newView.configError());
      } else if (configError != null) {
        LOG.info("the cluster configuration is valid again");
      }
      configError = newView.configError();
      metrics.dynamicConfigInvalid(configError != null);
    }
    DynamicConfig after = dynamic();
    if (before == after || Objects.equals(before.raw(), after.raw())) return;
    metrics.dynamicConfigApplied();
    after.warnings().forEach(w -> LOG.warn("config: {}", w));
    LOG.info("cluster configuration changed: {}", describeChange(before, after));
    if (before.loopWaitSeconds() != after.loopWaitSeconds()) scheduleLoop();
    if (before.ttlSeconds() != after.ttlSeconds()) {
      if (heartbeatTimer >= 0) {
        vertx.cancelTimer(heartbeatTimer); // its period follows ttl
        heartbeatTimer = -1;
      }
      renewSession(after.ttlSeconds());
    }
    if (before.synchronousMode() != after.synchronousMode() && synchronous != null) synchronous.modeChanged();
  }

  /** §1.5: the session timeout is ttl; a new one takes a new session, which keeps our keys (no leader change). */
  private void renewSession(int ttlSeconds) {
    dcs.renewSession(ttlSeconds * 1000).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("keeping the current zookeeper session: renewing it for ttl {} s failed: {}", ttlSeconds,
            ar.cause().getMessage());
      }
      runCycle("zookeeper session renewed");
    });
  }

  private static String describeChange(DynamicConfig before, DynamicConfig after) {
    return String.join(", ", DynamicConfigJson.changedKeys(before, after));
  }

  private void scheduleLoop() {
    if (loopTimer >= 0) vertx.cancelTimer(loopTimer);
    long periodMs = dynamic().loopWaitSeconds() * 1000L;
    nextLoopDueEpochMs = System.currentTimeMillis() + periodMs;
    loopTimer = vertx.setTimer(periodMs, t -> {
      loopTimer = -1;
      runCycle("loop_wait");
      scheduleLoop();
    });
  }

  // ---- inputs ----

  private void onView(ClusterView newView) {
    if (keyReleased && newView.leaderIsMe()) newView = newView.withLeader(null, false);
    ClusterView old = view;
    view = newView;
    takeConfig(newView);
    long nowMs = System.currentTimeMillis();
    metrics.membersClaimingPrimary(PghaMetrics.countClaimingPrimary(newView));
    if (old != null && newView.hasLeader() && !Objects.equals(old.leader(), newView.leader())) {
      metrics.leaderChanged(nowMs);
    }
    if (!newView.hasLeader() && old != null && old.hasLeader()) {
      LOG.info("leader key {} is gone", old.leader());
      leaderLostAtMs = nowMs;
    }
    if (newView.failover() != null && (old == null || old.failover() == null)) {
      Long at = newView.failover().scheduledAtEpochMs();
      switchoverRequestedAtMs = at == null ? nowMs : Math.max(nowMs, at);
    }
    if (old != null && old.leaderIsMe() && !newView.leaderIsMe()) lastSlots = null;
    if (newView.failover() != null && !Objects.equals(old == null ? null : old.failover(), newView.failover())
        && config.name().equals(newView.failover().candidate()) && !newView.leaderIsMe()) {
      slotsBeforeTakeover("switchover candidate");
    }
    // a diverged replica whose pg_rewind failed tries again from a new leader (Patroni checks again too)
    if (old != null && leaderChanged(old, newView) && local.diverged() && local.rewindFailed()
        && local.dataDir() == DataDirState.REPLICA) {
      local = local.toBuilder().rewindFailed(false).build();
    }
    // probe results belong to one situation: a new leader (or none) makes them stale
    if (old != null && leaderChanged(old, newView) && local.peers() != null) {
      local = local.toBuilder().peers(null).build();
    }
    if (old == null || leaderChanged(old, newView) || !Objects.equals(old.initialize(), newView.initialize())
        || !Objects.equals(old.failover(), newView.failover()) || configChanged(old, newView)
        || membersRunningChanged(old, newView)) {
      runCycle("zookeeper");
    }
    ensureHeartbeat();
  }

  private static boolean leaderChanged(ClusterView a, ClusterView b) {
    return !Objects.equals(a.leader(), b.leader()) || a.leaderIsMe() != b.leaderIsMe();
  }

  private static boolean configChanged(ClusterView a, ClusterView b) {
    return !Objects.equals(a.config() == null ? null : a.config().raw(), b.config() == null ? null : b.config().raw())
        || !Objects.equals(a.sync(), b.sync());
  }

  private static boolean membersRunningChanged(ClusterView a, ClusterView b) {
    return !runningMembers(a).equals(runningMembers(b));
  }

  private static Map<String, String> runningMembers(ClusterView v) {
    return v.members().values().stream()
        .collect(Collectors.toMap(MemberRecord::name, m -> m.state() + "/" + m.role()));
  }

  private void onHealth(DcsHealth h) {
    boolean wasConnected = health != null && health.connected();
    metrics.zookeeperConnected(h.connected());
    if (h.connected() && !wasConnected && everConnected) metrics.zookeeperReconnect();
    everConnected |= h.connected();
    health = h;
    if (wasConnected != h.connected()) runCycle("zookeeper connection");
  }

  private void onPostmaster(PostmasterEvent e) {
    if (e.alive()) return;
    if (!supervisor.postmasterAlive()) guardLink.disarm("postgres stopped");
    boolean crash = !e.expected();
    LocalState.Builder b = local.toBuilder().pg(PgRunState.STOPPED);
    if (crash) b.crashed(true).pgDownSinceMs(monotonicMs());
    local = b.build();
    pgStatus = null;
    publishStatus();
    if (crash) runCycle("postmaster exited");
  }

  /** While we hold the key, prove it to ourselves often: the fence deadline is measured from the last proof. */
  private void ensureHeartbeat() {
    boolean holding = view != null && view.leaderIsMe()
        && !(local.shuttingDown() && (dynamic().pause() || !supervisor.postmasterAlive()));
    if (holding && heartbeatTimer < 0) {
      long periodMs = Math.max(100, Math.min(500, dynamic().ttlSeconds() * 100L));
      heartbeatTimer = vertx.setPeriodic(periodMs, t -> heartbeat());
    } else if (!holding && heartbeatTimer >= 0 && (!local.isRunningPrimary() || local.shuttingDown())) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
      heartbeatFailing = false; // without a key to confirm, the session state alone says whether ZooKeeper answers
    }
  }

  private void heartbeat() {
    dcs.confirmLeader().onComplete(ar -> {
      boolean failing = ar.failed();
      if (failing != heartbeatFailing) {
        LOG.warn(failing ? "cannot confirm the leader key: {}" : "leader key confirmed again{}",
            failing ? ar.cause().getMessage() : "");
      }
      heartbeatFailing = failing;
      if (!failing && ar.result()) updateGuard("leader key confirmed");
      if (failing || !ar.result()) runCycle("leader key not confirmed");
    });
  }

  // ---- the cycle ----

  private void runCycle(String trigger) {
    if (local.shuttingDown()) return;
    if (cycleRunning) {
      rerunRequested = true;
      return;
    }
    cycleRunning = true;
    long cycleStartNanos = System.nanoTime();
    refreshLocal().compose(v -> {
      checkTimelineDivergence(trigger);
      cycle++;
      long now = monotonicMs();
      Decision d = HaCore.decide(view, local, dynamic(), settings, now);
      logDecision(d, trigger);
      metrics.decision(d.reason().name());
      if (d.reason() == Reason.SWITCHOVER_AWAIT) wakeAtScheduledTime();
      return execute(d).compose(x -> performDuties(d)).compose(x -> applyConfig());
    }).onComplete(ar -> {
      if (ar.failed()) LOG.error("ha.cycle cycle={} failed: {}", cycle, ar.cause().getMessage());
      metrics.haCycle(java.time.Duration.ofNanos(System.nanoTime() - cycleStartNanos));
      publishMember();
      publishStatus();
      ensureHeartbeat();
      updateGuard("cycle " + cycle);
      guardLink.countFires("by an earlier agent's guard");
      cycleRunning = false;
      if (rerunRequested) {
        rerunRequested = false;
        runCycle("rerun");
      }
    });
  }

  /** A scheduled switchover may fall due between two loop_wait cycles: wake up for it. */
  private void wakeAtScheduledTime() {
    Long at = view == null || view.failover() == null ? null : view.failover().scheduledAtEpochMs();
    if (at == null) return;
    long inMs = at - System.currentTimeMillis();
    if (inMs > 0 && inMs < dynamic().loopWaitSeconds() * 1000L) vertx.setTimer(inMs, t -> runCycle("scheduled"));
  }

  private void again() {
    rerunRequested = true;
  }

  /** Brings the inputs up to date: ZooKeeper health, the postgres status query, the data directory. */
  private Future<Void> refreshLocal() {
    DcsHealth h = dcs.health();
    health = h;
    long sessionMs = h.negotiatedTimeoutMs() > 0 ? h.negotiatedTimeoutMs() : dynamic().ttlSeconds() * 1000L;
    local = local.toBuilder().dcsConnected(h.connected() && !heartbeatFailing).wallClockMs(System.currentTimeMillis())
        .lockConfirmedAtMs(h.lockConfirmedAtMs()).sessionTtlMs(sessionMs).build();
    if (local.task() != null) return Future.succeededFuture();
    if (supervisor.postmasterAlive() && (local.pg() == PgRunState.RUNNING || local.pg() == PgRunState.STARTING)) {
      if (local.pg() == PgRunState.STARTING) {
        String ready = supervisor.readinessStatus();
        if ("ready".equals(ready) || "standby".equals(ready)) local = local.toBuilder().pg(PgRunState.RUNNING).build();
      }
      return pgLocal.status().timeout(2, TimeUnit.SECONDS).transform(ar -> {
        if (ar.succeeded()) {
          pgStatus = ar.result();
          // without a walreceiver a standby only knows its last restartpoint's timeline, which lags behind what
          // it already replays (right when its leader stops, for one): keep the last timeline seen, as Patroni does
          int timeline = pgStatus.inRecovery() && pgStatus.walReceiverStatus() == null
              ? Math.max(pgStatus.timeline(), local.timeline()) : pgStatus.timeline();
          local = local.toBuilder().pg(PgRunState.RUNNING).inRecovery(pgStatus.inRecovery())
              .lsn(pgStatus.xlogLocation()).timeline(timeline).sysid(pgStatus.systemIdentifier())
              .dataDir(pgStatus.inRecovery() ? DataDirState.REPLICA : DataDirState.PRIMARY).build();
          callbacks.running(pgStatus.inRecovery() ? Callbacks.REPLICA : Callbacks.PRIMARY);
          trackStreaming(pgStatus.inRecovery() && !"streaming".equals(pgStatus.walReceiverStatus()));
        } else {
          pgStatus = null;
          // postgres is up but not answering yet (crash recovery, start-up): look again soon, not in loop_wait
          vertx.setTimer(STATUS_RETRY_MS, t -> runCycle("status retry"));
        }
        return Future.succeededFuture();
      });
    }
    if (local.pg() != PgRunState.STOPPED) local = local.toBuilder().pg(PgRunState.STOPPED).build();
    notStreamingSinceMs = 0;
    return supervisor.inspectDataDir().<Void>map(info -> {
      local = local.toBuilder().dataDir(info.state()).sysid(info.sysid()).cleanShutdown(info.cleanShutdown())
          .inRecovery(null).build();
      return null;
    }).recover(e -> {
      local = local.toBuilder().dataDir(DataDirState.UNREADABLE).build();
      LOG.warn("cannot inspect {}: {}", config.postgresql().dataDir(), e.getMessage());
      return Future.succeededFuture();
    });
  }

  private void logDecision(Decision d, String trigger) {
    String action = d.action().getClass().getSimpleName();
    String line = "role=" + MemberState.role(local) + " action=" + action + " reason=" + d.reason() + " msg=\""
        + d.message() + "\"";
    // Repeating "no action" lines every loop_wait are logged once per change of situation, then at debug level.
    boolean quiet = d.action() instanceof Action.None && line.equals(lastDecisionLine);
    lastDecisionLine = line;
    String full = "ha.decision cycle=" + cycle + " " + line + " trigger=" + trigger + " leader="
        + (view == null ? "?" : view.leader()) + " lsn=" + local.lsn() + " tl=" + local.timeline();
    boolean stuck = d.reason() == Reason.DIVERGED_CANNOT_FOLLOW || d.reason() == Reason.DIVERGED_REWIND_FAILED;
    if (quiet) LOG.debug(full);
    else if (stuck) LOG.error(full);
    else LOG.info(full);
    vertx.eventBus().publish(Addresses.HA_DECIDED, full);
  }

  /**
   * A replica not streaming for a moment may have diverged: look again in {@link TimelineCheck#NOT_STREAMING_MS}, not only at
   * the next loop_wait.
   */
  private void trackStreaming(boolean notStreaming) {
    if (!notStreaming) {
      notStreamingSinceMs = 0;
      return;
    }
    if (notStreamingSinceMs == 0) {
      notStreamingSinceMs = monotonicMs();
      vertx.setTimer(TimelineCheck.NOT_STREAMING_MS + 50, t -> runCycle("not streaming"));
    }
  }

  /**
   * §3.13 for a running replica (issue 9): postgres rejects a leader whose timeline forked off ours before our WAL
   * position, over and over, while everything else looks fine. Checked when the leader changes, when the leader's
   * member key shows a newer timeline than ours, and when our walreceiver has not streamed for a couple of seconds;
   * the verdict (LocalState.diverged) is the decision core's to act on. The leader's history comes from the leader
   * itself over a replication connection ({@link PostgresSupervisor#leaderTimeline}), run off the event loop.
   */
  private void checkTimelineDivergence(String trigger) {
    if (timelineCheckRunning || view == null || !view.hasLeader() || view.leaderIsMe() || dynamic().pause()
        || settings.nostream() || local.task() != null || !local.isRunningReplica()
        || view.leader().equals(config.name())) {
      return;
    }
    String leader = view.leader();
    MemberRecord leaderMember = view.leaderMember();
    HostPort address = memberAddress(leader);
    if (leaderMember == null || address == null) return;
    int leaderKeyTimeline = leaderMember.timeline() == null ? 0 : leaderMember.timeline();
    long now = monotonicMs();
    boolean streamingFromLeader = pgStatus != null && "streaming".equals(pgStatus.walReceiverStatus())
        && leader.equals(local.upstream());
    TimelineCheck.Situation situation = new TimelineCheck.Situation(leader, leaderKeyTimeline, local.timeline(),
        local.lsn(), notStreamingSinceMs > 0 ? now - notStreamingSinceMs : -1, streamingFromLeader, local.diverged());
    if (!TimelineCheck.due(situation, lastTimelineCheckLeader, lastTimelineCheckKey, now - lastTimelineCheckAtMs)) {
      return;
    }
    HostPort self = memberAddress(config.name());
    lastTimelineCheckKey = situation.key();
    lastTimelineCheckAtMs = now;
    lastTimelineCheckLeader = leader;
    PostgresSupervisor.WalPosition fromStatus = new PostgresSupervisor.WalPosition(local.timeline(), local.lsn());
    timelineCheckRunning = true;
    // our own position as IDENTIFY_SYSTEM gives it (timeline and LSN read together), else the status query's
    Future<PostgresSupervisor.WalPosition> mine = self == null ? Future.succeededFuture(fromStatus)
        : supervisor.identifySystem(self.host(), self.port()).otherwise(fromStatus);
    mine.onSuccess(position -> supervisor.leaderTimeline(address.host(), address.port())
        .onComplete(ar -> timelineChecked(leader, trigger, position, ar)));
  }

  private void timelineChecked(String leader, String trigger, PostgresSupervisor.WalPosition mine,
      io.vertx.core.AsyncResult<PostgresSupervisor.LeaderTimeline> ar) {
    timelineCheckRunning = false;
    if (ar.failed()) {
      String error = ar.cause().getMessage();
      // usual while a new leader starts or an old one goes: the next trigger tries again
      if (!error.equals(lastTimelineCheckError)) {
        LOG.info("timeline check against {} ({}) failed: {}", leader, trigger, error);
      }
      lastTimelineCheckError = error;
      lastTimelineCheckAtMs = monotonicMs() - TimelineCheck.REPEAT_MS + 1000; // the same situation: again in 1 s
      return;
    }
    lastTimelineCheckError = null;
    if (view == null || !leader.equals(view.leader()) || !local.isRunningReplica() || local.task() != null) return;
    List<TimelineHistory.Entry> history;
    try {
      history = TimelineHistory.parse(ar.result().history());
    } catch (IllegalArgumentException e) {
      LOG.warn("timeline check against {}: cannot read its history: {}", leader, e.getMessage());
      return;
    }
    int leaderTimeline = ar.result().timeline();
    boolean diverged = TimelineHistory.replicaMustRewind(mine.timeline(), mine.lsn(), leaderTimeline, history);
    if (diverged == local.diverged()) return;
    long fork = TimelineHistory.switchPoint(mine.timeline(), history);
    if (diverged) {
      LOG.warn("ha.timeline my timeline {} at {} goes past where timeline {} of leader {} forked off it ({}): this"
          + " replica cannot follow it", mine.timeline(), Lsn.format(mine.lsn()), leaderTimeline, leader,
          fork < 0 ? "not in its history" : Lsn.format(fork));
    } else {
      LOG.info("ha.timeline my timeline {} at {} can follow timeline {} of leader {}", mine.timeline(),
          Lsn.format(mine.lsn()), leaderTimeline, leader);
    }
    local = local.toBuilder().diverged(diverged).build();
    publishStatus();
    runCycle("timeline check");
  }

  // ---- actions ----

  private Future<Void> execute(Decision d) {
    Action a = d.action();
    if (a instanceof Action.None) return Future.succeededFuture();
    if (a instanceof Action.RaceInitialize) {
      return dcs.raceInitialize().map(won -> {
        if (won) local = local.toBuilder().wonInitializeRace(true).build();
        else LOG.info("failed to acquire initialize lock");
        again();
        return null;
      });
    }
    if (a instanceof Action.Bootstrap) {
      callbacks.bootstrapStarted();
      return runTask(Task.BOOTSTRAP, bootstrap());
    }
    if (a instanceof Action.FinishBootstrap fb) {
      ObjectNode dcsConfig = config.bootstrap().dcs();
      return dcs.put(dcs.layout().initialize(), fb.sysid())
          .compose(v -> dcs.createIfAbsent(dcs.layout().config(), dcsConfig.toString()))
          .compose(v -> dcs.acquireLeader())
          .map(won -> {
            local = local.toBuilder().wonInitializeRace(false).build();
            if (won) tookKey();
            callbacks.bootstrapFinished();
            LOG.info("initialized a new cluster (system ID {}){}", fb.sysid(), won ? "" : ": leader key taken");
            again();
            return null;
          });
    }
    if (a instanceof Action.WriteInitialize wi) {
      return dcs.createIfAbsent(dcs.layout().initialize(), wi.sysid()).map(x -> { again(); return null; });
    }
    if (a instanceof Action.Clone c) {
      HostPort source = memberAddress(c.source());
      if (source == null) return Future.failedFuture("member " + c.source() + " has no conn_url");
      return runTask(Task.CLONE, supervisor.basebackup(source.host(), source.port())
          .map(v -> {
            local = local.toBuilder().dataDir(DataDirState.REPLICA).cloneFromLeader(false).diverged(false).build();
            return null;
          }));
    }
    if (a instanceof Action.ProbePeers) {
      List<MemberRecord> peers = view.members().values().stream()
          .filter(m -> !m.name().equals(config.name())).toList();
      return prober.probe(peers).map(result -> {
        local = local.toBuilder().peers(result).build();
        again();
        return null;
      });
    }
    if (a instanceof Action.AcquireLeader) {
      return slotsBeforeTakeover("leader race").compose(x -> dcs.acquireLeader()).compose(won -> {
        local = local.toBuilder().peers(null).build();
        LOG.info(won ? "acquired session lock as a leader" : "leader race lost");
        // the watch confirms it a moment later; deciding on the stale view would only race again
        if (won) tookKey();
        again();
        // in pause the request stays until the new owner has promoted (§3.4: Patroni rewrites it; pgha keeps it)
        boolean promotingOnRequest = dynamic().pause() && view.failover() != null
            && config.name().equals(view.failover().candidate());
        if (won && view.failover() != null && !promotingOnRequest) return dcs.put(dcs.layout().failover(), "{}");
        return Future.succeededFuture();
      });
    }
    if (a instanceof Action.ReleaseLeader) {
      if (d.reason() == Reason.START_FAILED_RELEASE) callbacks.gaveUpAfterFailedStart();
      return releaseLeaderKey().map(v -> { again(); return null; });
    }
    if (a instanceof Action.Promote) {
      // normally made before the key was taken (slotsBeforeTakeover); a no-op then
      Future<Void> slotsFirst = dynamic().useSlots() ? syncSlots().recover(e -> {
        LOG.warn("creating replication slots before promote: {}", e.getMessage());
        return Future.succeededFuture();
      }) : Future.succeededFuture();
      return runTask(Task.PROMOTE, slotsFirst.compose(x -> synchronous.claimBeforePromote()).compose(x -> pgLocal.promote()).map(v -> {
        local = local.toBuilder().inRecovery(false).dataDir(DataDirState.PRIMARY).upstream(null).crashed(false)
            .build();
        LOG.info("promoted self to leader: postgres accepts writes");
        callbacks.promoted();
        countLeaderChange();
        checkpointAfterPromote();
        return null;
      }).compose(v -> dynamic().useSlots() ? syncSlots().recover(e -> Future.succeededFuture()) : Future.succeededFuture()));
    }
    if (a instanceof Action.StartPrimary) return startPostgres(null, false);
    if (a instanceof Action.StartReplica sr) return startPostgres(sr.upstream(), true);
    if (a instanceof Action.Follow f) {
      return supervisor.writeConfig(parameters(), recoveryFor(f.upstream()))
          .compose(v -> pgLocal.reload())
          .map(v -> {
            local = local.toBuilder().upstream(f.upstream()).build();
            callbacks.reloaded();
            watchStreaming();
            return null;
          });
    }
    if (a instanceof Action.Stop s) {
      local = local.toBuilder().pg(PgRunState.STOPPING).build();
      publishStatus();
      boolean signalled = supervisor.postmasterAlive();
      Future<Void> stop = supervisor.stop(s.mode(), s.escalateAfterMs()).onSuccess(v -> callbacks.stopped(signalled));
      if (s.releaseKey()) stop = stop.compose(v -> releaseLeaderKey());
      return runTask(Task.STOP, stop.map(v -> {
        local = local.toBuilder().pg(PgRunState.STOPPED).crashed(false).inRecovery(null).build();
        return null;
      }));
    }
    if (a instanceof Action.DemoteGraceful g) return demoteGraceful(g.candidate());
    if (a instanceof Action.ClearFailover) {
      return dcs.put(dcs.layout().failover(), "{}").map(v -> { again(); return null; });
    }
    if (a instanceof Action.CrashRecovery) return runTask(Task.CRASH_RECOVERY, supervisor.crashRecovery(parameters()));
    if (a instanceof Action.Rewind r) {
      HostPort source = memberAddress(r.source());
      if (source == null) return Future.failedFuture("member " + r.source() + " has no conn_url");
      return runTask(Task.REWIND, supervisor.rewind(source.host(), source.port(), r.dryRunOnly())
          .<Void>map(v -> {
            local = local.toBuilder().dataDir(DataDirState.REPLICA).rewindFailed(false).diverged(false).build();
            return null;
          })
          .recover(e -> {
            LOG.warn("{}", e.getMessage());
            local = local.toBuilder().rewindFailed(true).build();
            return Future.succeededFuture();
          }));
    }
    if (a instanceof Action.WipeDataDir) {
      return runTask(Task.CLONE, supervisor.wipeDataDir().map(v -> {
        local = local.toBuilder().dataDir(DataDirState.EMPTY).rewindFailed(false).diverged(false).build();
        return null;
      }));
    }
    if (a instanceof Action.CancelBootstrap) return dcs.deleteInitialize();
    if (a instanceof Action.Fatal f) {
      LOG.error("FATAL: {}", f.why());
      vertx.setTimer(10, t -> fatalExit(f.why()));
      return Future.succeededFuture();
    }
    return Future.failedFuture("unknown action " + a);
  }

  private void tookKey() {
    view = view.withLeader(config.name(), true);
    keyReleased = false;
    updateGuard("leader key taken");
  }

  /**
   * Tells the fencing guard where we stand. Every push is measured from the last proof that we hold the key
   * (lockConfirmedAtMs), never from now, so pushing on a stale view cannot move the deadline past the session's
   * earliest expiry.
   */
  private void updateGuard(String why) {
    if (guardLink == null) return;
    DcsHealth h = dcs.health();
    long ttlMs = dynamic().ttlSeconds() * 1000L;
    long sessionMs = h.negotiatedTimeoutMs() > 0 ? Math.min(h.negotiatedTimeoutMs(), ttlMs) : ttlMs;
    boolean holdsKey = view != null && view.leaderIsMe() && !keyReleased;
    long pid = supervisor.postmasterAlive() ? supervisor.postmasterPid() : 0;
    guardLink.update(new FencingGuard.Situation(dynamic().pause(), holdsKey, pid, local.inRecovery(),
        local.task() == Task.PROMOTE, h.lockConfirmedAtMs(), sessionMs), why);
  }

  /**
   * Deletes our leader key and stops believing we hold it. The watch event that says the key is gone may come only
   * after the next decision, which would then still see us as the leader and start postgres as a primary beside the
   * new one: after a switchover the old primary once restarted writable for ~0.2 s and lost the writes it took.
   */
  private Future<Void> releaseLeaderKey() {
    // postgres is down (or a replica) by now: disarm before the key goes, never after someone else may hold it
    updateGuard("releasing the leader key");
    return dcs.releaseLeader().map(v -> {
      keyReleased = true;
      lastSlots = null;
      if (view != null && view.leaderIsMe()) view = view.withLeader(null, false);
      return null;
    });
  }

  /** Only the member that promotes counts the failover or switchover, so a sum over the cluster counts each once. */
  private void countLeaderChange() {
    long nowMs = System.currentTimeMillis();
    if (switchoverRequestedAtMs > 0) {
      metrics.switchover(java.time.Duration.ofMillis(nowMs - switchoverRequestedAtMs));
    } else if (leaderLostAtMs > 0) {
      metrics.failover(java.time.Duration.ofMillis(nowMs - leaderLostAtMs));
    }
    switchoverRequestedAtMs = 0;
    leaderLostAtMs = 0;
  }

  /**
   * §3.8 graceful demotion: a checkpoint first (so the fast stop is quick), then the fast stop, the final WAL position
   * in {@code status}, and the key released; the candidate takes it at once (its race sees the request name it).
   */
  private Future<Void> demoteGraceful(String candidate) {
    local = local.toBuilder().pg(PgRunState.STOPPING).build();
    long lsnBeforeStop = local.lsn();
    Future<Void> demote = pgLocal.checkpoint().recover(e -> Future.succeededFuture())
        .compose(v -> {
          pgStatus = null;
          publishStatus();
          boolean signalled = supervisor.postmasterAlive();
          return supervisor.stop(Action.StopMode.FAST, 0).onSuccess(x -> callbacks.stopped(signalled));
        })
        .compose(v -> supervisor.inspectDataDir())
        .compose(info -> {
          long finalLsn = Math.max(info.latestCheckpointLsn(), lsnBeforeStop);
          return awaitPeerReceived(candidate, finalLsn, System.nanoTime() + SWITCHOVER_CATCH_UP_NANOS)
              .compose(caughtUp -> caughtUp ? handOver(candidate, finalLsn).compose(x -> rejoinAfterPausedHandOver(candidate))
                  : stayLeader(candidate, finalLsn));
        });
    return runTask(Task.DEMOTE, demote);
  }

  /**
   * A planned switchover loses nothing: the key goes only to a member that has received our shutdown checkpoint,
   * i.e. every transaction we acknowledged. (Right after a promotion, say, a candidate may not stream yet.)
   */
  private Future<Boolean> awaitPeerReceived(String candidate, long finalLsn, long deadlineNanos) {
    List<MemberRecord> peers = view.members().values().stream()
        .filter(m -> !m.name().equals(config.name()) && (candidate == null || m.name().equals(candidate)))
        .toList();
    List<Future<Long>> positions = new ArrayList<>();
    for (MemberRecord peer : peers) {
      HostPort address = memberAddress(peer.name());
      if (address == null || !peer.canFailover()) continue;
      positions.add(PgLocal.receivedLsn(vertx, config.postgresql(), address.host(), address.port())
          .otherwise(0L));
    }
    return Future.join(positions).transform(ignored -> {
      boolean caughtUp = positions.stream().anyMatch(f -> f.succeeded() && f.result() > finalLsn);
      if (caughtUp) return Future.succeededFuture(true);
      if (System.nanoTime() > deadlineNanos) return Future.succeededFuture(false);
      Promise<Boolean> later = Promise.promise();
      vertx.setTimer(20, t -> awaitPeerReceived(candidate, finalLsn, deadlineNanos).onComplete(later));
      return later.future();
    });
  }

  private Future<Void> handOver(String candidate, long finalLsn) {
    return dcs.put(dcs.layout().status(), "{\"optime\":" + finalLsn + "}")
        .recover(e -> Future.succeededFuture())
        .compose(v -> releaseLeaderKey())
        .map(v -> {
          local = local.toBuilder().pg(PgRunState.STOPPED).inRecovery(null).build();
          LOG.info("switchover: released the leader key{} at WAL position {}",
              candidate == null ? "" : " for " + candidate, finalLsn);
          return null;
        });
  }

  /**
   * In pause nothing starts postgres automatically, so the demoted primary of a switchover done in pause starts
   * again as a replica of the candidate itself, as Patroni's graceful demotion does.
   */
  private Future<Void> rejoinAfterPausedHandOver(String candidate) {
    if (!dynamic().pause() || candidate == null) return Future.succeededFuture();
    LOG.info("ha.decision cycle={} action=StartReplica reason=SWITCHOVER_DEMOTE msg=\"paused: starting again as a"
        + " replica of {}\"", cycle, candidate);
    return supervisor.start(parameters(), recoveryFor(candidate)).map(ready -> {
      local = local.toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING).upstream(candidate)
          .inRecovery(true).dataDir(DataDirState.REPLICA).build();
      return null;
    });
  }

  /** The candidate did not catch up: keep the key, start again as primary, and give the request up. */
  private Future<Void> stayLeader(String candidate, long finalLsn) {
    LOG.warn("ha.decision cycle={} action=StartPrimary reason=SWITCHOVER_CANDIDATE_BEHIND msg=\"switchover: {} did"
        + " not receive WAL position {} within {} ms: staying the leader\"", cycle,
        candidate == null ? "no member" : candidate, finalLsn, SWITCHOVER_CATCH_UP_NANOS / 1_000_000);
    callbacks.starting(Callbacks.PRIMARY);
    return supervisor.start(parameters(), null)
        .map(ready -> {
          local = local.toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING).build();
          return null;
        })
        .compose(v -> dcs.put(dcs.layout().failover(), "{}"));
  }

  /** The operations the REST API asks for over the bus (§5.9, §5.10); each replies {status, message}. */
  private final class OperationHandlers {
    private ScheduledRestart scheduledRestart;
    private long scheduledRestartTimer = -1;

    void restart(Message<JsonObject> msg) {
      JsonObject body = msg.body() == null ? new JsonObject() : msg.body();
      if (body.getBoolean("cancel", false)) {
        if (scheduledRestart == null) {
          reply(msg, 404, "no restarts are scheduled");
        } else {
          cancelScheduledRestart();
          reply(msg, 200, "scheduled restart deleted");
        }
        return;
      }
      String schedule = body.getString("schedule");
      if (schedule != null) {
        scheduleRestart(msg, body, schedule);
        return;
      }
      restartNow(body, (status, message) -> reply(msg, status, message));
    }

    /** §3.18: kept in memory and in the member key; carried out when due, with the request's conditions. */
    private void scheduleRestart(Message<JsonObject> msg, JsonObject body, String schedule) {
      if (scheduledRestart != null) {
        reply(msg, 409, "Another restart is already scheduled");
        return;
      }
      long atMs;
      try {
        atMs = java.time.OffsetDateTime.parse(schedule).toInstant().toEpochMilli();
      } catch (java.time.format.DateTimeParseException e) {
        reply(msg, 400, "Unable to parse scheduled timestamp: " + schedule);
        return;
      }
      JsonObject conditions = body.copy();
      conditions.remove("schedule");
      scheduledRestart = new ScheduledRestart(schedule, atMs, conditions,
          pgStatus == null ? null : pgStatus.postmasterStartTime());
      checkScheduledRestartIn(atMs - System.currentTimeMillis());
      LOG.info("restart scheduled at {}", schedule);
      publishMember();
      publishStatus(); // /patroni shows it too
      reply(msg, 202, "Restart scheduled");
    }

    private void checkScheduledRestartIn(long delayMs) {
      scheduledRestartTimer = vertx.setTimer(Math.max(1, delayMs), t -> {
        scheduledRestartTimer = -1;
        scheduledRestartDue();
      });
    }

    /** §3.18: never in pause, not while another operation runs, dropped when stale or when postgres restarted. */
    private void scheduledRestartDue() {
      ScheduledRestart r = scheduledRestart;
      if (r == null) return;
      long nowMs = System.currentTimeMillis();
      ScheduledRestart.Due due = r.check(nowMs, dynamic().loopWaitSeconds() * 1000L, dynamic().pause(),
          local.task() != null, pgStatus == null ? null : pgStatus.postmasterStartTime());
      switch (due) {
        case WAIT, PAUSED -> checkScheduledRestartIn(Math.min(1000, Math.max(1, r.atEpochMs() - nowMs)));
        case RUN -> {
          cancelScheduledRestart();
          LOG.info("Manual scheduled restart at {}", r.schedule());
          restartNow(r.conditions(), (status, message) -> LOG.info("scheduled restart: {}", message));
        }
        case STALE -> {
          cancelScheduledRestart();
          LOG.warn("Found a stale restart value, cleaning up: {}", r.schedule());
        }
        case ALREADY_RESTARTED -> {
          cancelScheduledRestart();
          LOG.info("Cancelling scheduled restart: postgres restart has already happened at {}",
              pgStatus == null ? "?" : pgStatus.postmasterStartTime());
        }
      }
    }

    private void cancelScheduledRestart() {
      if (scheduledRestartTimer >= 0) vertx.cancelTimer(scheduledRestartTimer);
      scheduledRestartTimer = -1;
      scheduledRestart = null;
      publishMember();
      publishStatus();
    }

    JsonObject scheduled() {
      return scheduledRestart == null ? null : scheduledRestart.memberJson();
    }

    private void restartNow(JsonObject body, java.util.function.BiConsumer<Integer, String> reply) {
      String unmet = unmetRestartCondition(body);
      if (unmet != null) {
        reply.accept(503, "restart conditions are not satisfied (" + unmet + ")");
        return;
      }
      if (local.task() != null) {
        reply.accept(503, local.task().text() + " already in progress");
        return;
      }
      boolean asPrimary = local.isRunningPrimary() && view != null && view.leaderIsMe();
      String upstream = local.upstream();
      LOG.info("ha.decision cycle={} action=Restart reason=REQUESTED msg=\"restarting postgres on request\"", cycle);
      local = local.toBuilder().pg(PgRunState.STOPPING).build();
      callbacks.restarting();
      Future<Void> work = leaveSynchronousSet()
          .compose(v -> supervisor.stop(Action.StopMode.FAST, 0))
          .compose(v -> supervisor.start(parameters(), asPrimary ? null : recoveryFor(upstream)))
          .<Void>map(ready -> {
            local = local.toBuilder().pg(ready ? PgRunState.RUNNING : PgRunState.STARTING).crashed(false).build();
            pendingRestart.restarted();
            return null;
          })
          .andThen(ar -> {
            if (leavingSync) {
              leavingSync = false;
              publishMember();
            }
          });
      runTask(Task.RESTART, work);
      work.onComplete(ar -> reply.accept(ar.succeeded() ? 200 : 503,
          ar.succeeded() ? "restarted successfully" : "restart failed: " + ar.cause().getMessage()));
    }

    private String unmetRestartCondition(JsonObject body) {
      // the API checked the types; a body from elsewhere on the bus must not throw here either
      String role = body.getValue("role") instanceof String r ? r : null;
      String myRole = local.isRunningPrimary() ? "primary" : "replica";
      if (role != null && !role.equals(myRole) && !("master".equals(role) && "primary".equals(myRole))) {
        return "role is " + myRole;
      }
      String version = body.getValue("postgres_version") instanceof String v ? v : null;
      if (version != null && pgStatus != null && !(versionNumber(version) > pgStatus.serverVersion())) {
        return "postgres_version is not greater than " + pgStatus.serverVersion();
      }
      if (Boolean.TRUE.equals(body.getValue("restart_pending")) && pendingRestart.reason() == null) {
        return "no restart is pending";
      }
      return null;
    }

    void reinitialize(Message<JsonObject> msg) {
      JsonObject body = msg.body() == null ? new JsonObject() : msg.body();
      if (view == null || !view.hasLeader()) {
        reply(msg, 503, "Cluster has no leader, can not reinitialize");
      } else if (view.leaderIsMe()) {
        reply(msg, 503, "I am the leader, can not reinitialize");
      } else if (local.task() != null && !body.getBoolean("force", false)) {
        reply(msg, 503, local.task().text() + " already in progress");
      } else {
        LOG.info("ha.decision cycle={} action=Reinitialize reason=REQUESTED msg=\"reinitializing on request\"", cycle);
        boolean signalled = supervisor.postmasterAlive();
        boolean fromLeader = body.getBoolean("from_leader", false);
        Future<Void> wiped = supervisor.stop(Action.StopMode.IMMEDIATE, 0)
            .onSuccess(v -> callbacks.stopped(signalled))
            .compose(v -> supervisor.wipeDataDir())
            .map(v -> {
              local = local.toBuilder().pg(PgRunState.STOPPED).dataDir(DataDirState.EMPTY).inRecovery(null)
                  .cloneFromLeader(fromLeader).diverged(false).rewindFailed(false).build();
              return null;
            });
        // in pause the HA loop starts nothing, so the request itself clones and starts, as Patroni's does
        runTask(Task.CLONE, dynamic().pause() ? wiped.compose(v -> cloneAndStartInPause(fromLeader)) : wiped);
        reply(msg, 200, "reinitialize started");
      }
    }

    private Future<Void> cloneAndStartInPause(boolean fromLeader) {
      String source = HaCore.cloneSource(view, settings, fromLeader);
      HostPort address = source == null ? null : memberAddress(source);
      if (address == null) return Future.failedFuture("member " + source + " has no conn_url");
      LOG.info("ha.decision cycle={} action=Clone reason=REINITIALIZE_PAUSED msg=\"cloning from {} and starting"
          + " postgres: reinitialize requested in pause\"", cycle, source);
      return supervisor.basebackup(address.host(), address.port())
          .compose(v -> {
            local = local.toBuilder().dataDir(DataDirState.REPLICA).cloneFromLeader(false).build();
            return startWork(HaCore.followTarget(view, settings), true);
          });
    }

    void reload(Message<JsonObject> msg) {
      reply(msg, 202, "reload scheduled");
      reloadConfigFile().recover(e -> {
        LOG.error("configuration file not reloaded, nothing changed: {}", e.getMessage());
        return Future.succeededFuture();
      }).onComplete(x -> {
        publishMember();
        publishStatus();
        reloadPostgres();
      });
    }

    private void reloadPostgres() {
      if (local.pg() != PgRunState.RUNNING || local.task() != null) return;
      rewriteAndReload(parameters(), local.isRunningPrimary() ? null : recoveryFor(local.upstream()))
          .onComplete(ar -> LOG.info("reload {}", ar.succeeded() ? "done" : "failed: " + ar.cause().getMessage()));
    }

    private void reply(Message<JsonObject> msg, int status, String message) {
      msg.reply(new JsonObject().put("status", status).put("message", message));
    }
  }

  /** {@code 15.4} → 150004, {@code 9.6.1} → 90601, as server_version_num. */
  static int versionNumber(String version) {
    String[] parts = version.trim().split("\\.");
    try {
      int major = Integer.parseInt(parts[0]);
      if (major >= 10) return major * 10000 + (parts.length > 1 ? Integer.parseInt(parts[1]) : 0);
      return major * 10000 + (parts.length > 1 ? Integer.parseInt(parts[1]) * 100 : 0)
          + (parts.length > 2 ? Integer.parseInt(parts[2]) : 0);
    } catch (NumberFormatException e) {
      return 0;
    }
  }

  /**
   * pg_control shows the new timeline only after the first checkpoint following a promotion; until then a member
   * that rewinds from us would compute the wrong divergence point. Like Patroni, publish
   * {@code checkpoint_after_promote: false} until that checkpoint is done.
   */
  private void checkpointAfterPromote() {
    checkpointPending = true;
    publishMember();
    pgLocal.checkpoint().onComplete(ar -> {
      if (ar.failed()) LOG.warn("checkpoint after promote failed: {}", ar.cause().getMessage());
      else LOG.info("checkpoint after promote finished");
      checkpointPending = false;
      publishMember();
    });
  }

  /** Runs a long operation as the task in flight; its end triggers the next cycle at once. */
  private Future<Void> runTask(Task task, Future<Void> work) {
    local = local.toBuilder().task(task).build();
    if (task == Task.PROMOTE) updateGuard("promoting");
    publishStatus();
    work.onComplete(ar -> {
      local = local.toBuilder().task(null).build();
      if (ar.failed()) {
        LOG.error("{} failed: {}", task.text(), ar.cause().getMessage());
        if (task == Task.BOOTSTRAP) {
          cancelBootstrap(ar.cause().getMessage());
          return;
        }
        if (task == Task.START) return; // try again at the next loop_wait, not in a tight loop
      } else {
        LOG.info("{} finished", task.text());
      }
      runCycle(task.text() + " finished");
    });
    return Future.succeededFuture();
  }

  private Future<Void> bootstrap() {
    return supervisor.initdb()
        .compose(v -> supervisor.start(parameters(), null))
        .compose(ready -> ready ? Future.succeededFuture() : Future.failedFuture("postgres did not start"))
        .compose(v -> pgLocal.run(supervisor.bootstrapRoleStatements()))
        .compose(v -> supervisor.postBootstrapScript())
        .map(v -> {
          local = local.toBuilder().pg(PgRunState.RUNNING).inRecovery(false).dataDir(DataDirState.PRIMARY).build();
          return null;
        });
  }

  /** §3.14: a failed bootstrap gives the initialize key back, keeps the data for inspection and stops the agent. */
  private void cancelBootstrap(String why) {
    supervisor.stop(Action.StopMode.IMMEDIATE, 0)
        .compose(v -> dcs.deleteInitialize())
        .onComplete(ar -> vertx.executeBlocking(() -> {
          var dataDir = config.postgresql().dataDir();
          if (Files.exists(dataDir)) {
            Files.move(dataDir, dataDir.resolveSibling(dataDir.getFileName() + ".failed"),
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
          }
          return null;
        }).onComplete(x -> fatalExit("bootstrap failed: " + why)));
  }

  private void fatalExit(String why) {
    System.err.println("pgha: " + why);
    Runtime.getRuntime().halt(1);
  }

  private Future<Void> startPostgres(String upstream, boolean asReplica) {
    return runTask(Task.START, startWork(upstream, asReplica));
  }

  /** Starts postgres and records the outcome, for a task of its own or as the last step of another. */
  private Future<Void> startWork(String upstream, boolean asReplica) {
    ConfigFiles.Recovery recovery = asReplica ? recoveryFor(upstream) : null;
    callbacks.starting(asReplica ? Callbacks.REPLICA : Callbacks.PRIMARY);
    local = local.toBuilder().pg(PgRunState.STARTING).upstream(asReplica ? upstream : null).startAttemptFailed(false)
        .build();
    return supervisor.start(parameters(), recovery).transform(ar -> {
      if (ar.succeeded()) {
        local = local.toBuilder().pg(ar.result() ? PgRunState.RUNNING : PgRunState.STARTING).crashed(false)
            .pgDownSinceMs(0).build();
        pendingRestart.restarted();
        if (recovery != null && recovery.host() != null) watchStreaming();
        return Future.succeededFuture();
      }
      local = local.toBuilder().pg(PgRunState.STOPPED).startAttemptFailed(true).build();
      return Future.failedFuture(ar.cause());
    });
  }

  private ConfigFiles.Recovery recoveryFor(String upstream) {
    HostPort hp = upstream == null ? null : memberAddress(upstream);
    if (hp == null) return new ConfigFiles.Recovery(null, 0, null);
    String slot = dynamic().useSlots() ? SlotNames.forMember(config.name()) : null;
    return new ConfigFiles.Recovery(hp.host(), hp.port(), slot);
  }

  private HostPort memberAddress(String member) {
    MemberRecord m = view == null ? null : view.members().get(member);
    if (m == null || m.connUrl() == null) return null;
    URI uri = URI.create(m.connUrl());
    return new HostPort(uri.getHost().replace("[", "").replace("]", ""), uri.getPort() > 0 ? uri.getPort() : 5432);
  }

  private Map<String, String> parameters() {
    String socketDir = io.pgha.config.PostgresqlConfig.defaultSocketDirectory();
    DynamicConfig cfg = dynamic();
    Map<String, String> params = io.pgha.postgres.PgParameters.effective(config.postgresql(), cfg, config.scope(),
        socketDir);
    // §4.1: in synchronous mode pgha owns synchronous_standby_names; the user's value applies only when it is off
    String ssn = synchronous == null ? null : synchronous.synchronousStandbyNames(cfg);
    if (ssn != null) params.put("synchronous_standby_names", ssn);
    // every write of postgresql.conf asks for the parameters first: the dynamic pg_hba goes along with them
    supervisor.dynamicPgHba(dynamicPgHba(cfg));
    return params;
  }

  /** {@code postgresql.pg_hba} of the dynamic configuration: a list of lines (or one line), null when not set. */
  static List<String> dynamicPgHba(DynamicConfig cfg) {
    return DynamicConfigJson.pgHba(cfg);
  }

  /**
   * §8.7: a change of the parameters (from {@code config}, or synchronous_standby_names) reaches the running postgres
   * at once: postgresql.conf is rewritten and reloaded, and what only a restart applies is reported a moment later
   * as {@code pending_restart}. postgres is never restarted for it: that is the operator's call.
   */
  private Future<Void> applyConfig() {
    if (local.shuttingDown() || local.task() != null || local.pg() != PgRunState.RUNNING || pgStatus == null) {
      return Future.succeededFuture();
    }
    PostgresSupervisor.WrittenConfig written = supervisor.lastWritten();
    Map<String, String> params = parameters();
    ConfigFiles.Recovery recovery = local.isRunningPrimary() ? null : recoveryFor(local.upstream());
    // the recovery settings are the Follow and start actions' business (after a promotion they are inert)
    boolean sameHba = written != null && Objects.equals(written.pgHba(), supervisor.effectivePgHba());
    if (written != null && written.params().equals(params) && sameHba) return Future.succeededFuture();
    Set<String> changed = new TreeSet<>();
    if (written == null) {
      changed.add("(all: first write by this agent)");
    } else {
      if (!sameHba) changed.add("pg_hba");
      params.forEach((k, v) -> { if (!v.equals(written.params().get(k))) changed.add(k); });
      written.params().keySet().stream().filter(k -> !params.containsKey(k)).forEach(changed::add);
    }
    LOG.info("ha.config cycle={} reloading postgres: changed {}", cycle, changed);
    return rewriteAndReload(params, recovery);
  }

  /** postgresql.conf written and reloaded; then on_reload, and a look at what waits for a restart. */
  private Future<Void> rewriteAndReload(Map<String, String> params, ConfigFiles.Recovery recovery) {
    return supervisor.writeConfig(params, recovery)
        .compose(v -> pgLocal.reload())
        .map(v -> {
          callbacks.reloaded();
          pendingRestart.checkAfterReload();
          return null;
        });
  }

  // ---- leader duties ----

  private Future<Void> synchronousStep() {
    if (!view.leaderIsMe() || !local.isRunningPrimary() || local.task() != null) return Future.succeededFuture();
    return synchronous.step();
  }

  private Future<Void> performDuties(Decision d) {
    boolean leading = d.reason() == Reason.LEADER_WITH_LOCK || d.reason() == Reason.PAUSED && view.leaderIsMe();
    if (!leading && d.duties().isEmpty()) return Future.succeededFuture();
    List<Future<Void>> work = new ArrayList<>();
    for (Decision.LeaderDuty duty : d.duties()) {
      if (duty instanceof Decision.LeaderDuty.WriteInitialize wi) {
        work.add(dcs.put(dcs.layout().initialize(), wi.sysid()));
      } else if (duty instanceof Decision.LeaderDuty.WriteConfig) {
        work.add(dcs.createIfAbsent(dcs.layout().config(), config.bootstrap().dcs().toString()).mapEmpty());
      } else if (duty instanceof Decision.LeaderDuty.WriteHistory) {
        work.add(writeHistory());
      } else if (duty instanceof Decision.LeaderDuty.SyncSlots) {
        work.add(syncSlots());
      }
    }
    if (leading) {
      work.add(synchronousStep().recover(e -> {
        LOG.warn("synchronous replication step failed: {}", e.getMessage());
        return Future.succeededFuture();
      }));
    }
    if (leading && local.lsn() != lastPublishedOptime) {
      long optime = local.lsn();
      work.add(dcs.put(dcs.layout().status(), "{\"optime\":" + optime + "}")
          .map(v -> { lastPublishedOptime = optime; return null; }));
    }
    return Future.join(work).mapEmpty();
  }

  /** One slot change at a time: a takeover's early creation and the leader's duty must not both create a slot. */
  private Future<Void> syncSlots() {
    return syncSlots(view.leaderIsMe() || switchoverNamesMe());
  }

  /** @param asLeader make the slots a leader keeps (for every member streaming from the leader), not a replica's */
  private Future<Void> syncSlots(boolean asLeader) {
    Future<Void> next = slotWork.transform(ignored -> {
      Set<String> wanted = new TreeSet<>();
      ReplicationSlots.members(view, config.name(), asLeader).forEach(m -> wanted.add(SlotNames.forMember(m)));
      if (wanted.equals(lastSlots)) return Future.succeededFuture();
      return pgLocal.syncPhysicalSlots(wanted).map(v -> { lastSlots = wanted; return null; });
    });
    slotWork = next;
    return next;
  }

  /** A switchover names me: I am about to lead, so I keep (and make) the slots a leader keeps. */
  private boolean switchoverNamesMe() {
    return view.failover() != null && config.name().equals(view.failover().candidate());
  }

  /**
   * The other members' slots, made on this standby before it takes the key: the followers re-point at the new
   * leader the moment they see the key, and a walreceiver whose slot does not exist yet (or is being created in our
   * session: "active for PID") gives up and waits wal_retrieve_retry_interval (5 s) before it tries again. A named
   * switchover candidate makes them as soon as it sees the request, while the old primary is still stopping.
   */
  private Future<Void> slotsBeforeTakeover(String why) {
    if (!dynamic().useSlots() || !local.isRunningReplica() || view == null) return Future.succeededFuture();
    return syncSlots(true).recover(e -> {
      LOG.warn("creating replication slots before the takeover ({}): {}", why, e.getMessage());
      return Future.succeededFuture();
    });
  }

  /**
   * After a re-point or a start as a replica the walreceiver connects within moments: report {@code streaming} as
   * soon as it does (a switchover needs a streaming candidate), not a loop_wait later.
   */
  private void watchStreaming() {
    if (streamingTimer >= 0) vertx.cancelTimer(streamingTimer);
    long watch = ++streamingWatch;
    long deadline = monotonicMs() + STREAMING_WATCH_MS;
    streamingTimer = vertx.setTimer(STREAMING_POLL_MS, t -> lookForStreaming(watch, deadline));
  }

  private void lookForStreaming(long watch, long deadline) {
    streamingTimer = -1;
    if (watch != streamingWatch || local.upstream() == null || local.shuttingDown() || monotonicMs() > deadline
        || !supervisor.postmasterAlive()) {
      return;
    }
    pgLocal.status().onComplete(ar -> {
      if (watch != streamingWatch) return;
      if (ar.succeeded() && "streaming".equals(ar.result().walReceiverStatus())) {
        runCycle("walreceiver streaming");
      } else {
        streamingTimer = vertx.setTimer(STREAMING_POLL_MS, t -> lookForStreaming(watch, deadline));
      }
    });
  }

  /** §3.6.3: history from the timeline history file; the newest entry names this member. */
  private Future<Void> writeHistory() {
    int tl = local.timeline();
    if (tl <= 1) return dcs.put(dcs.layout().history(), "[]");
    return pgLocal.timelineHistory(tl).compose(text -> {
      if (text == null) return Future.succeededFuture();
      ArrayNode history = JSON.createArrayNode();
      String[] lines = text.split("\n");
      for (int i = 0; i < lines.length; i++) {
        String[] f = lines[i].trim().split("\t");
        if (f.length < 2 || f[0].startsWith("#")) continue;
        ArrayNode entry = history.addArray();
        entry.add(Integer.parseInt(f[0].trim()));
        entry.add(io.pgha.postgres.Lsn.parse(f[1].trim()));
        entry.add(f.length > 2 ? f[2].trim() : "");
        entry.add(java.time.OffsetDateTime.now().toString());
        entry.add(config.name());
      }
      return dcs.put(dcs.layout().history(), history.toString());
    });
  }

  /**
   * §4.6: a synchronous standby about to stop (restart, agent shutdown) first asks to leave the sync set, by
   * publishing {@code nosync}, and waits up to 2 × loop_wait for the primary to drop it from the {@code sync} key,
   * so that the primary's commits never wait for a standby that is going away. Then it proceeds anyway.
   */
  private Future<Void> leaveSynchronousSet() {
    if (dynamic().synchronousMode() != DynamicConfig.SyncMode.ON || view == null || config.tags().nosync()
        || !view.sync().standbys().contains(config.name())) {
      return Future.succeededFuture();
    }
    leavingSync = true;
    dcs.publishMember(memberJson());
    LOG.info("ha.sync cycle={} leaving the synchronous standby set before postgres stops", cycle);
    long deadline = monotonicMs() + 2000L * dynamic().loopWaitSeconds();
    Promise<Void> left = Promise.promise();
    vertx.setPeriodic(100, timer -> {
      boolean dropped = !view.sync().standbys().contains(config.name());
      if (dropped || monotonicMs() > deadline) {
        vertx.cancelTimer(timer);
        if (!dropped) LOG.warn("still listed in the sync key after {} s: stopping anyway", 2 * dynamic().loopWaitSeconds());
        left.tryComplete();
      }
    });
    return left.future();
  }

  // ---- publishing ----

  private void publishMember() {
    if (local.shuttingDown()) return;
    String json = memberJson();
    if (json.equals(lastMemberJson)) return;
    lastMemberJson = json;
    dcs.publishMember(json);
  }

  private String memberJson() {
    return SelfReport.memberJson(config, local, pgStatus, checkpointPending, dynamic().pause(),
        operations == null ? null : operations.scheduled(), pendingRestart == null ? null : pendingRestart.reason(),
        leavingSync);
  }

  private void publishStatus() {
    NodeStatus s = SelfReport.nodeStatus(config, local, pgStatus, supervisor.postmasterAlive(), view, health,
        dynamic(), nextLoopDueEpochMs, monotonicMs(), pendingRestart == null ? null : pendingRestart.reason(), configError,
        operations == null ? null : operations.scheduled());
    if (guardLink != null && guardLink.watchdogFailed()) s = s.withWatchdogFailed(true);
    if (s.equals(lastStatus)) return;
    lastStatus = s;
    vertx.eventBus().publish(Addresses.HA_STATUS_CHANGED, s);
  }

  // ---- shutdown ----

  /**
   * §3.17: stop postgres (fast) unless paused; a leader releases its key only after postgres is down, and writes
   * its final WAL position first, so that a replica that has it takes over at once.
   */
  public Future<Void> shutdown() {
    if (local.shuttingDown()) return stopped.future();
    local = local.toBuilder().shuttingDown(true).build();
    LOG.info("ha.decision cycle={} action=Shutdown reason={} msg=\"{}\"", cycle, Reason.SHUTDOWN,
        dynamic().pause() ? "paused: leaving postgres running" : "stopping postgres");
    if (loopTimer >= 0) vertx.cancelTimer(loopTimer);
    boolean leader = view != null && view.leaderIsMe();
    // a leader keeps confirming its key (and pushing the guard's deadline) while postgres stops: a long shutdown
    // checkpoint must not look like a frozen agent
    if (heartbeatTimer >= 0 && (!leader || dynamic().pause())) {
      vertx.cancelTimer(heartbeatTimer);
      heartbeatTimer = -1;
    }
    if (dynamic().pause()) guardLink.disarm("shutting down in pause: postgres keeps running unfenced");
    if (!dynamic().pause()) {
      // peers racing for the key we are about to release must not see a live primary in our /patroni
      local = local.toBuilder().pg(PgRunState.STOPPING).build();
      pgStatus = null;
      publishStatus();
    }
    boolean signalled = supervisor.postmasterAlive();
    Future<Void> stopPg = dynamic().pause() ? Future.succeededFuture()
        : leaveSynchronousSet().compose(v -> supervisor.stop(Action.StopMode.FAST, 0))
            .onSuccess(v -> callbacks.stopped(signalled));
    stopPg.compose(v -> {
          if (heartbeatTimer >= 0) vertx.cancelTimer(heartbeatTimer);
          heartbeatTimer = -1;
          if (!supervisor.postmasterAlive()) guardLink.disarm("postgres stopped for shutdown");
          if (!leader || dynamic().pause()) return Future.succeededFuture();
          return dcs.put(dcs.layout().status(), "{\"optime\":" + local.lsn() + "}")
              .recover(e -> Future.succeededFuture())
              .compose(x -> dcs.releaseLeader());
        })
        .onComplete(ar -> {
          if (ar.failed()) LOG.warn("shutdown: {}", ar.cause().getMessage());
          else if (leader) LOG.info("leader key released after postgres stopped");
          guardLink.close();
          dcs.close();
          pgLocal.close();
          prober.close();
          // on_stop must be running before the JVM exits; the callback itself may outlive the agent
          vertx.executeBlocking(() -> {
            callbackRunner.awaitStarted(java.time.Duration.ofSeconds(2));
            callbackRunner.close();
            return null;
          }).onComplete(x -> stopped.tryComplete());
        });
    return stopped.future();
  }

  private static long monotonicMs() {
    return ZooKeeperDcs.monotonicMs();
  }
}
