package io.pgha.dcs;

import io.pgha.bus.Addresses;
import io.pgha.config.PghaConfig;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Watches the cluster's znodes and publishes every change on the local event bus: a new
 * {@link io.pgha.decision.ClusterView} on {@link Addresses#DCS_CLUSTER_CHANGED} and the session state on
 * {@link Addresses#DCS_HEALTH_CHANGED}. The writes (leader key, member key, bootstrap keys) are asynchronous calls on
 * {@link #dcs()} whose results come back on the caller's own event loop.
 */
public final class DcsWatcherVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.dcs");
  private static final java.time.Duration TLS_CHECK_TIMEOUT = java.time.Duration.ofSeconds(3);
  private final PghaConfig config;
  private final ZooKeeperDcs.Clients clients;
  private ZooKeeperDcs dcs;

  /** With clients already connecting ({@link ZooKeeperDcs#connect}, started before Vert.x was built). */
  public DcsWatcherVerticle(PghaConfig config, ZooKeeperDcs.Clients clients) {
    this.config = config;
    this.clients = clients;
  }

  public ZooKeeperDcs dcs() {
    return dcs;
  }

  @Override
  public Future<?> start() {
    LOG.info("connecting to zookeeper {}{} (base {}, session timeout {} ms)", config.zookeeper().connectString(),
        config.zookeeper().tls() != null ? " over TLS" : "", config.basePath(), clients.sessionTimeoutMs());
    java.util.function.Consumer<io.pgha.decision.ClusterView> onView =
        view -> vertx.eventBus().publish(Addresses.DCS_CLUSTER_CHANGED, view);
    java.util.function.Consumer<DcsHealth> onHealth =
        health -> vertx.eventBus().publish(Addresses.DCS_HEALTH_CHANGED, health);
    dcs = new ZooKeeperDcs(context, config.zookeeper(), config.basePath(), config.name(), clients, onView, onHealth);
    if (config.zookeeper().tls() != null) {
      // ZooKeeper's client only logs a failed handshake and retries: say once, in one line, why TLS fails
      vertx.executeBlocking(() -> ZkClients.tlsProblem(config.zookeeper(), TLS_CHECK_TIMEOUT), false)
          .onSuccess(problem -> problem.ifPresent(p -> LOG.error("zookeeper: {}", p)));
    }
    return dcs.start();
  }

  @Override
  public Future<?> stop() {
    if (dcs != null) dcs.close();
    return Future.succeededFuture();
  }
}
