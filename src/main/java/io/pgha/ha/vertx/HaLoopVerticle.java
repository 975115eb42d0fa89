package io.pgha.ha.vertx;

import io.pgha.config.DynamicConfigJson;
import io.pgha.bus.Addresses;
import io.pgha.config.PghaConfig;
import io.pgha.dcs.DcsHealth;
import io.pgha.dcs.ZooKeeperDcs;
import io.pgha.decision.ClusterView;
import io.pgha.decision.ReinitRequest;
import io.pgha.decision.RestartRequest;
import io.pgha.guard.GuardSettings;
import io.pgha.ha.HaLoop;
import io.pgha.ha.port.OperationReply;
import io.pgha.ha.port.Ports;
import io.pgha.metrics.PghaMetrics;
import io.pgha.postgres.PostgresSupervisor;
import io.pgha.postgres.PostmasterEvent;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionStage;

/**
 * The HA loop on Vert.x: builds the port adapters on this verticle's context, turns bus messages into the inputs of
 * {@link HaLoop} (JSON bodies into typed requests) and its replies back into messages. No decisions here.
 */
public final class HaLoopVerticle extends VerticleBase {
  private final PghaConfig config;
  private final Callable<PghaConfig> configFile;
  private final ZooKeeperDcs dcs;
  private final PostgresSupervisor supervisor;
  private final PghaMetrics metrics;
  private final GuardSettings guardSettings;
  private final int zookeeperTickMs;
  private HaLoop loop;

  /**
   * @param configFile reads this member's configuration file again, for {@code POST /reload} and SIGHUP
   * @param zookeeperTickMs the ensemble's tickTime, learned once at start-up
   */
  public HaLoopVerticle(PghaConfig config, Callable<PghaConfig> configFile, ZooKeeperDcs dcs,
      PostgresSupervisor supervisor, PghaMetrics metrics, GuardSettings guardSettings, int zookeeperTickMs) {
    this.zookeeperTickMs = zookeeperTickMs;
    this.config = config;
    this.configFile = configFile;
    this.dcs = dcs;
    this.supervisor = supervisor;
    this.metrics = metrics;
    this.guardSettings = guardSettings;
  }

  @Override
  public Future<?> start() {
    dcs.observeRequests(metrics::zookeeperRequest);
    var bootstrap = io.pgha.config.DynamicConfigJson.parse(config.bootstrap().dcs());
    Ports ports = new Ports(new VertxClock(vertx), new ZooKeeperDcsPort(dcs, context),
        new SupervisorPort(vertx, context, config, supervisor), new HttpPeers(vertx, context, config.restapi().authentication()),
        new GuardFence(vertx, guardSettings, metrics, bootstrap.ttlSeconds(), bootstrap.loopWaitSeconds()),
        new BusReporter(vertx, metrics),
        new CallbackHooks(context, config.postgresql(), config.scope(), metrics),
        () -> OnContext.blocking(context, configFile));
    loop = new HaLoop(config, ports, HaLoop.Options.defaults().withZookeeperTickMs(zookeeperTickMs));
    var bus = vertx.eventBus();
    bus.<ClusterView>localConsumer(Addresses.DCS_CLUSTER_CHANGED, m -> loop.onView(m.body()));
    bus.<DcsHealth>localConsumer(Addresses.DCS_HEALTH_CHANGED, m -> loop.onHealth(m.body()));
    bus.<PostmasterEvent>localConsumer(Addresses.PG_POSTMASTER_CHANGED, m -> loop.onPostmaster(m.body()));
    bus.localConsumer(Addresses.HA_WAKE, m -> loop.wake("request"));
    bus.<JsonObject>localConsumer(Addresses.HA_RESTART, m -> reply(m, loop.restart(restartRequest(body(m)))));
    bus.<JsonObject>localConsumer(Addresses.HA_REINITIALIZE,
        m -> reply(m, loop.reinitialize(reinitRequest(body(m)))));
    bus.<JsonObject>localConsumer(Addresses.HA_RELOAD, m -> reply(m, loop.reload()));
    bus.<JsonObject>localConsumer(Addresses.HA_FAILSAFE, m -> {
      JsonObject b = body(m);
      var r = loop.failsafePost(String.valueOf(b.getValue("name")), stringOrNull(b.getValue("conn_url")),
          stringOrNull(b.getValue("api_url")));
      m.reply(new JsonObject().put("status", r.status()).put("message", r.message()).put("lsn", r.lsn()));
    });
    return Future.fromCompletionStage(loop.start(), context);
  }

  private static String stringOrNull(Object v) {
    return v instanceof String s ? s : null;
  }

  private static JsonObject body(Message<JsonObject> m) {
    return m.body() == null ? new JsonObject() : m.body();
  }

  /** The API checked the types; a body from elsewhere on the bus must not throw here either. */
  static RestartRequest restartRequest(JsonObject body) {
    return RestartRequest.fromMap(body.getMap());
  }

  static ReinitRequest reinitRequest(JsonObject body) {
    return new ReinitRequest(Boolean.TRUE.equals(body.getValue("force")),
        Boolean.TRUE.equals(body.getValue("from_leader")));
  }

  private static void reply(Message<JsonObject> msg, CompletionStage<OperationReply> answer) {
    answer.whenComplete((r, e) -> msg.reply(e == null
        ? new JsonObject().put("status", r.status()).put("message", r.message())
        : new JsonObject().put("status", 503).put("message", String.valueOf(e.getMessage()))));
  }

  /** §3.17 (SIGTERM): on the loop's context, whatever thread asks. */
  public Future<Void> shutdown() {
    Promise<Void> done = Promise.promise();
    context.runOnContext(v -> loop.shutdown().whenComplete((x, e) -> done.tryComplete()));
    return done.future();
  }
}
