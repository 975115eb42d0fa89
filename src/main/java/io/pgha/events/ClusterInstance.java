package io.pgha.events;

import io.pgha.config.ZooKeeperConfig;
import io.pgha.dcs.ZkClients;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.spi.cluster.zookeeper.ZookeeperClusterManager;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.curator.framework.CuratorFramework;
import org.apache.curator.framework.state.ConnectionState;
import org.apache.curator.retry.ExponentialBackoffRetry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One clustered Vert.x instance of the {@link EventStream} with its Curator client and node id, built, joined and
 * torn down as a whole on the stream's supervisor thread (the lifecycle part of the stream; the stream decides when
 * to rebuild). Flags are written by Curator's event thread and the supervisor, read anywhere.
 */
final class ClusterInstance {
  private static final Logger LOG = LoggerFactory.getLogger("pgha.events");

  /** What the instance tells its stream: an event arrived (on the instance's event loop), the session was lost. */
  interface Listener {
    void delivered(ClusterInstance instance, JsonObject event);

    void lost(ClusterInstance instance);
  }

  final int number;
  final String nodeId;
  final CuratorFramework curator;
  final AtomicInteger pending = new AtomicInteger();
  volatile ZookeeperClusterManager clusterManager;
  volatile Vertx vertx;
  volatile Context context;
  volatile boolean connected = true;
  volatile boolean lost;
  volatile boolean missing;
  volatile boolean retired;
  int missingChecks;

  private ClusterInstance(int number, String nodeId, CuratorFramework curator) {
    this.number = number;
    this.nodeId = nodeId;
    this.curator = curator;
  }

  static boolean usable(ClusterInstance g) {
    return g.connected && !g.lost && g.context != null;
  }

  /** Builds, joins and subscribes one instance, blocking (the stream's supervisor thread); on failure releases it. */
  static ClusterInstance build(int number, ZooKeeperConfig zookeeper, String namespace, String scope, String member,
      String advertiseHost, String address, EventStream.Settings settings, Listener listener) throws Exception {
    String nodeId = EventStream.pathSafe(member) + "-" + UUID.randomUUID();
    CuratorFramework curator = ZkClients.builder(zookeeper)
        .namespace(namespace)
        .sessionTimeoutMs(settings.sessionTimeoutMs())
        .connectionTimeoutMs(settings.connectTimeoutMs())
        .retryPolicy(new ExponentialBackoffRetry(200, 3, 2_000))
        .build();
    ClusterInstance g = new ClusterInstance(number, nodeId, curator);
    curator.getConnectionStateListenable().addListener((client, state) -> g.onConnectionState(state, listener));
    Vertx vertx = null;
    try {
      curator.start();
      if (!curator.blockUntilConnected(settings.connectTimeoutMs(), TimeUnit.MILLISECONDS)) {
        throw new TimeoutException("cannot reach ZooKeeper at " + zookeeper.connectString());
      }
      ZookeeperClusterManager clusterManager = new ZookeeperClusterManager(curator, nodeId);
      VertxOptions options = new VertxOptions()
          .setEventLoopPoolSize(1)
          .setWorkerPoolSize(2)
          .setInternalBlockingPoolSize(2)
          // its blocked-thread checker would wake every second, like the agent's own instance's
          .setBlockedThreadCheckInterval(5).setBlockedThreadCheckIntervalUnit(TimeUnit.SECONDS);
      options.getEventBusOptions()
          .setHost(advertiseHost)
          .setPort(settings.eventBusPort())
          .setClusterPublicHost(advertiseHost)
          .setConnectTimeout(settings.connectTimeoutMs())
          .setClusterPingInterval(5_000)
          .setClusterPingReplyInterval(5_000);
      Future<Vertx> building = Vertx.builder().with(options).withClusterManager(clusterManager).buildClustered();
      vertx = await(building, settings.joinTimeoutMs(), () -> building.onSuccess(Vertx::close));
      g.clusterManager = clusterManager;
      g.vertx = vertx;
      Context context = vertx.getOrCreateContext();
      CompletableFuture<Void> subscribed = new CompletableFuture<>();
      context.runOnContext(v -> {
        MessageConsumer<JsonObject> consumer = g.vertx.eventBus().consumer(address, m -> listener.delivered(g, m.body()));
        consumer.completion().onComplete(ar -> {
          if (ar.succeeded()) {
            subscribed.complete(null);
          } else {
            subscribed.completeExceptionally(ar.cause());
          }
        });
      });
      subscribed.get(settings.joinTimeoutMs(), TimeUnit.MILLISECONDS);
      g.context = context;
      LOG.info("event stream {}: member {} joined the event cluster at {} as node {} (instance {})", scope, member,
          EventStream.rootPath(scope), nodeId, number);
      return g;
    } catch (Exception e) {
      if (vertx != null) {
        closeQuietly(vertx, settings, scope);
      }
      curator.close();
      throw e;
    }
  }

  /** Curator's event thread. */
  private void onConnectionState(ConnectionState state, Listener listener) {
    ClusterInstance g = this;
    switch (state) {
      case CONNECTED, RECONNECTED -> g.connected = true;
      case SUSPENDED, READ_ONLY -> g.connected = false;
      case LOST -> {
        g.connected = false;
        g.lost = true;
        listener.lost(g);
      }
      default -> { }
    }
  }

  /**
   * Connected (or reconnected within a moment, as after a session expiry): Vert.x's own close, which unregisters and
   * whose cluster manager {@code leave()} closes the Curator client. Not connected: the Curator client first, which
   * makes the cluster manager's operations during the close fail at once (Vert.x and Curator log them as errors)
   * instead of waiting on an unreachable ensemble, where Vert.x's close never completes; the session then ends on the
   * server by itself. Either way bounded by the close timeout, and the Curator client is closed at the end (a second
   * close does nothing).
   */
  void teardown(EventStream.Settings settings, String scope) {
    ClusterInstance g = this;
    g.retired = true;
    g.context = null;
    boolean connected;
    try {
      connected = g.connected || g.curator.blockUntilConnected(
          (int) Math.min(2_000, settings.connectTimeoutMs()), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      connected = false;
    }
    if (!connected) {
      g.curator.close();
    }
    Vertx vertx = g.vertx;
    Future<Void> closing = vertx == null ? Future.succeededFuture() : vertx.close();
    try {
      closing.toCompletionStage().toCompletableFuture().get(settings.closeTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("event stream {}: the clustered instance did not close within {} ms ({}); closing its ZooKeeper client",
          scope, settings.closeTimeoutMs(), rootCause(e));
    }
    g.curator.close();
    if (!closing.isComplete()) {
      closing.onComplete(ar -> LOG.info("event stream {}: the previous clustered instance closed", scope));
    }
  }

  private static void closeQuietly(Vertx vertx, EventStream.Settings settings, String scope) {
    try {
      vertx.close().toCompletionStage().toCompletableFuture().get(settings.closeTimeoutMs(), TimeUnit.MILLISECONDS);
    } catch (Exception e) {
      LOG.warn("event stream {}: the clustered instance did not close within {} ms: {}", scope,
          settings.closeTimeoutMs(), rootCause(e));
    }
  }

  private static <T> T await(Future<T> future, long timeoutMs, Runnable onTimeout) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(timeoutMs, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      onTimeout.run();
      throw e;
    } catch (java.util.concurrent.ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    }
  }

  static String rootCause(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    return c.toString();
  }
}
