package io.pgha.agent;

import io.pgha.Version;
import io.pgha.api.ApiVerticle;
import io.pgha.api.ClusterRoutes;
import io.pgha.api.OperationRoutes;
import io.pgha.api.SwitchoverRoutes;
import io.pgha.bus.LocalCodec;
import io.pgha.config.ConfigException;
import io.pgha.config.ConfigLoader;
import io.pgha.config.PghaConfig;
import io.pgha.dcs.DcsHealth;
import io.pgha.dcs.DcsWatcherVerticle;
import io.pgha.decision.ClusterView;
import io.pgha.guard.GuardSettings;
import io.pgha.dcs.SessionTimeouts;
import io.pgha.ha.vertx.HaLoopVerticle;
import io.pgha.model.NodeStatus;
import io.pgha.postgres.PostgresSupervisorVerticle;
import io.pgha.postgres.PostmasterEvent;
import io.pgha.events.EventBridge;
import io.pgha.events.EventStream;
import io.pgha.events.EventsRoute;
import io.pgha.metrics.MetricsRoute;
import io.pgha.metrics.PghaMetrics;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.ThreadingModel;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The composition root of one agent: loads the configuration, refuses what cannot work, wires the verticles and
 * turns SIGTERM into an orderly hand-over.
 */
public final class Agent {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.agent");

  private Agent() {}

  public static int run(Path configFile) {
    PghaConfig config;
    GuardSettings guardSettings;
    try {
      config = ConfigLoader.load(configFile, System.getenv());
      guardSettings = GuardSettings.from(config, System.getenv());
      SessionTimeouts.checkedTickTimeMs(config);
    } catch (ConfigException e) {
      System.err.println("pgha: " + e.getMessage());
      return 2;
    }
    if ("root".equals(System.getProperty("user.name")) || isRootUid()) {
      System.err.println("pgha: refusing to run as root: PostgreSQL cannot run as root. Start pgha as the user that"
          + " owns the data directory, e.g. `runuser -u postgres -- bin/pgha " + configFile + "`");
      return 2;
    }
    LOG.info("pgha {} starting: member {} of cluster {} ({} in {})", Version.PGHA, config.name(), config.scope(),
        config.postgresql().binDir(), config.postgresql().dataDir());
    String unhonoured = io.pgha.config.KeyCoverage.warning(io.pgha.config.KeyCoverage.unhonoured(config.raw()));
    if (unhonoured != null) LOG.warn(unhonoured);

    // the ensemble's tick (a socket round trip when not configured): asked once, here, before any event loop runs
    int tickMs = SessionTimeouts.tickTimeMs(config);
    // the ZooKeeper session first: its handshake (Curator's threads) overlaps building Vert.x, metrics and the verticles
    io.pgha.dcs.ZooKeeperDcs.Clients zookeeper = io.pgha.dcs.ZooKeeperDcs.connect(config.zookeeper(),
        SessionTimeouts.sessionTimeoutMs(config, tickMs), SessionTimeouts.connectionTimeoutMs(config));
    // the JVM's meters (JMX) are bound after the first HA decision, below
    PghaMetrics metrics = PghaMetrics.jvmMetricsLater(config.scope(), config.name());
    // native transport: the PG client reaches a Unix socket (use_unix_socket) only through epoll
    Vertx vertx = Vertx.vertx(PghaMetrics.withMetrics(new VertxOptions().setPreferNativeTransport(true)
        .setEventLoopPoolSize(2).setWorkerPoolSize(4).setMaxEventLoopExecuteTime(2).setMaxEventLoopExecuteTimeUnit(TimeUnit.SECONDS)
        // the blocked-thread checker wakes every second by default; a block of 2 s is still reported, a little later
        .setBlockedThreadCheckInterval(5).setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS), metrics));
    registerLocalCodecs(vertx);
    // role labels on this member's pod (Patroni's kubernetes: keys) when configured; the HA loop never waits for it
    io.pgha.kube.PodLabeller labeller = io.pgha.kube.PodLabeller.deployIfConfigured(vertx, config, System.getenv());
    DcsWatcherVerticle dcsWatcher = new DcsWatcherVerticle(config, zookeeper);
    PostgresSupervisorVerticle postgres = new PostgresSupervisorVerticle(config);
    ApiVerticle api = MetricsRoute.install(ApiVerticle.secured(config.restapi(), initialStatus(config),
        () -> ApiVerticle.apiUrlHosts(memberApiUrls(dcsWatcher))), metrics);
    AtomicReference<EventStream> events = new AtomicReference<>();
    EventsRoute.install(api, events::get);
    io.pgha.ui.UiRoute.install(vertx, api, () -> memberApiUrls(dcsWatcher)); // GET /ui/, and CORS for the members' pages
    HaLoopVerticle[] haLoopHolder = new HaLoopVerticle[1];
    AtomicReference<String> apiDeployment = new AtomicReference<>();
    try {
      // connecting to ZooKeeper takes the longest: the supervisor starts meanwhile; the API's routes need the client
      Future.all(vertx.deployVerticle(dcsWatcher), vertx.deployVerticle(postgres))
          .compose(id -> {
            var curator = dcsWatcher.dcs().curator();
            ClusterRoutes.install(api, curator, config.basePath(), vertx);
            SwitchoverRoutes.install(api, vertx, curator, config.basePath());
            OperationRoutes.install(api, vertx);
            haLoopHolder[0] = new HaLoopVerticle(config, () -> ConfigLoader.load(configFile, System.getenv()),
                dcsWatcher.dcs(), postgres.supervisor(), metrics, guardSettings, tickMs);
            return Future.all(
                vertx.deployVerticle(api, new DeploymentOptions().setThreadingModel(ThreadingModel.EVENT_LOOP))
                    .onSuccess(apiDeployment::set),
                vertx.deployVerticle(haLoopHolder[0]));
          })
          .toCompletionStage().toCompletableFuture().get(120, TimeUnit.SECONDS);
    } catch (Exception e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      System.err.println("pgha: cannot start: " + cause.getMessage());
      vertx.close();
      return 1;
    }
    HaLoopVerticle haLoop = haLoopHolder[0];
    logStartUp();
    metrics.bindJvmMetrics();
    startEventStream(config, vertx, events);
    CountDownLatch done = new CountDownLatch(1);
    reloadOnSighup(vertx);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      LOG.info("received SIGTERM: shutting down");
      // the REST API goes first, as Patroni's shutdown does: while postgres stops, health checks and the peers'
      // leader-race probes get a refused connection at once instead of waiting on an agent that is going away
      if (apiDeployment.get() != null) {
        vertx.undeploy(apiDeployment.get()).onFailure(e -> LOG.warn("closing the REST API: {}", e.toString()));
      }
      try {
        haLoop.shutdown().toCompletionStage().toCompletableFuture()
            .get(config.postgresql().pgCtlTimeoutSeconds() + 15L, TimeUnit.SECONDS);
      } catch (Exception e) {
        LOG.warn("shutdown did not finish cleanly: {}", e.toString());
      }
      if (labeller != null) { // postgres is stopped: the pod leaves the role Services (bounded: 2 s)
        labeller.removeRoleLabels(2000).toCompletionStage().toCompletableFuture().join();
      }
      EventStream stream = events.get();
      if (stream != null) {
        stream.shutdown().toCompletionStage().toCompletableFuture().orTimeout(6, TimeUnit.SECONDS)
            .exceptionally(t -> null).join();
      }
      vertx.close().toCompletionStage().toCompletableFuture().orTimeout(5, TimeUnit.SECONDS).exceptionally(t -> null)
          .join();
      metrics.close();
      LOG.info("pgha stopped");
      done.countDown();
    }, "pgha-shutdown"));
    try {
      done.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 0;
  }

  /**
   * The cluster-wide event stream runs in a Vert.x instance of its own and carries observations only: it may fail
   * to start, or break later, without touching the HA loop.
   */
  private static void startEventStream(PghaConfig config, Vertx vertx, AtomicReference<EventStream> events) {
    try {
      String advertiseHost = io.pgha.config.HostPort.parse(config.restapi().connectAddress(), 8008).host();
      EventStream stream = EventStream.open(config.zookeeper(), config.scope(), config.name(),
          advertiseHost, EventStream.Settings.defaults());
      events.set(stream);
      EventBridge.install(vertx, stream).onFailure(e -> LOG.warn("event stream bridge: {}", e.toString()));
    } catch (RuntimeException e) {
      LOG.warn("event stream disabled: {}", e.toString());
    }
  }

  /** How long the start took, wall and CPU (benchmarks/startup.sh reads this line). */
  private static void logStartUp() {
    ProcessHandle.Info self = ProcessHandle.current().info();
    long wallMs = self.startInstant().map(t -> System.currentTimeMillis() - t.toEpochMilli()).orElse(-1L);
    long cpuMs = self.totalCpuDuration().map(java.time.Duration::toMillis).orElse(-1L);
    LOG.info("started: zookeeper session and first HA decision {} s after the process started, {} s of CPU",
        String.format("%.3f", wallMs / 1000.0), String.format("%.3f", cpuMs / 1000.0));
  }

  /** The members' api_url values, for {@code restapi.allowlist_include_members}. */
  private static List<String> memberApiUrls(DcsWatcherVerticle dcsWatcher) {
    if (dcsWatcher.dcs() == null) return List.of();
    return dcsWatcher.dcs().view().members().values().stream()
        .map(io.pgha.decision.MemberRecord::apiUrl).filter(java.util.Objects::nonNull).toList();
  }

  /** Bodies on the local bus are immutable records passed by reference. */
  private static void registerLocalCodecs(Vertx vertx) {
    for (Class<?> type : List.of(NodeStatus.class, ClusterView.class, DcsHealth.class, PostmasterEvent.class)) {
      register(vertx, type);
    }
  }

  private static <T> void register(Vertx vertx, Class<T> type) {
    vertx.eventBus().registerDefaultCodec(type, new LocalCodec<>(type));
  }

  private static boolean isRootUid() {
    try {
      Object uid = java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid");
      return Integer.valueOf(0).equals(uid);
    } catch (Exception e) {
      return false;
    }
  }

  private static NodeStatus initialStatus(PghaConfig config) {
    return new NodeStatus(config.name(), config.scope(), Version.PATRONI_COMPATIBLE, "starting", "uninitialized",
        null, null, false, null, null, null, null, null, null, null, List.of(), false, false, true, false, null, null,
        0, false, System.currentTimeMillis() + 30_000, 30, config.tags().published(), config.tags().noloadbalance(),
        1048576);
  }

  /** SIGHUP reloads the configuration file, as it does for Patroni (and as {@code POST /reload} does). */
  private static void reloadOnSighup(io.vertx.core.Vertx vertx) {
    try {
      sun.misc.Signal.handle(new sun.misc.Signal("HUP"), signal -> {
        LOG.info("received SIGHUP: reloading the configuration");
        vertx.eventBus().request(io.pgha.bus.Addresses.HA_RELOAD, new io.vertx.core.json.JsonObject());
      });
    } catch (IllegalArgumentException unsupported) {
      LOG.warn("SIGHUP cannot be handled here: {}", unsupported.getMessage());
    }
  }
}
